// Presets and batches are validated with errors that name the field; paramSpec follows lerobot/openpi keys.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../../src/native.ts';
import { lossBatch, preset, presetJson, sampleBatch } from './fixtures.ts';

const { Pi0Model } = native().pi0;

function edited(edit: (c: Record<string, any>) => void): string {
  const c = JSON.parse(presetJson('tiny'));
  edit(c);
  return JSON.stringify(c);
}

test('a missing field throws naming it', () => {
  assert.throws(() => new Pi0Model(edited((c) => delete c.llm.head_dim), 1), /'llm\.head_dim'/);
  assert.throws(() => new Pi0Model(edited((c) => delete c.action_horizon), 1), /'action_horizon'/);
});

test('inconsistent shapes throw naming the field', () => {
  assert.throws(() => new Pi0Model(edited((c) => (c.vision.width = 33)), 1), /'vision\.width'.*divisible/);
  assert.throws(() => new Pi0Model(edited((c) => (c.llm.num_kv_heads = 3)), 1), /'llm\.num_heads'/);
  assert.throws(() => new Pi0Model(edited((c) => (c.patch_size = 7)), 1), /'patch_size'/);
  assert.throws(() => new Pi0Model(edited((c) => (c.llm.width = -4)), 1), /'llm\.width'.*positive integer/);
  assert.throws(() => new Pi0Model('{"image_size": ', 1), /invalid JSON/);
});

test('bad batch shapes throw naming the field', () => {
  const cfg = preset('tiny');
  const m = new Pi0Model(presetJson('tiny'), 1);
  const b = lossBatch(cfg, 2, 1);
  assert.throws(() => m.loss({ ...b, images: new Float32Array(3) }), /batch\.images: expected \d+ elements, got 3/);
  assert.throws(() => m.loss({ ...b, actions: new Float32Array(5) }), /batch\.actions/);
  assert.throws(() => m.loss({ ...b, weights: new Float32Array(3) }), /batch\.weights/);
  assert.throws(() => m.loss({ ...b, tokens: new Int32Array(b.tokens.length).fill(999) }), /batch\.tokens: id 999/);
  assert.throws(() => m.loss({ ...b, imageMask: new Float32Array(4) as unknown as Uint8Array }), /batch\.imageMask: expected a Uint8Array/);
  assert.throws(() => m.loss({ ...b, batch: 0 }), /batch\.batch/);
  assert.throws(() => m.sample({ ...sampleBatch(cfg, 2, 1), noise: new Float32Array(1) }), /batch\.noise/);
  assert.throws(() => m.optimizerStep({ lrHeader: 1 } as never), /opts\.lrModel/);
  assert.throws(() => new Pi0Model(presetJson('tiny'), 1, { path: 'gpu' as never }), /options\.path/);
});

test('paramSpec: lerobot/openpi keys in module order, contiguous offsets, PyTorch shapes', () => {
  const cfg = JSON.parse(presetJson('tiny'));
  const m = new Pi0Model(presetJson('tiny'), 1);
  const spec = m.paramSpec();
  let off = 0;
  for (const e of spec) {
    assert.is(e.offset, off, e.name);
    assert.is(e.size, e.shape.reduce((a, b) => a * b, 1), e.name);
    off += e.size;
  }
  assert.is(off, m.params().length);
  assert.is(m.grads().length, off);
  const byName = new Map(spec.map((e) => [e.name, e]));
  const V = 'paligemma_with_expert.paligemma.model.vision_tower.vision_model.';
  const LM = 'paligemma_with_expert.paligemma.model.language_model.';
  const AE = 'paligemma_with_expert.gemma_expert.model.';
  const hd = cfg.llm.head_dim;
  const expect: [string, number[]][] = [
    [V + 'embeddings.patch_embedding.weight', [cfg.vision.width, 3, cfg.patch_size, cfg.patch_size]],
    [V + 'embeddings.position_embedding.weight', [(cfg.image_size / cfg.patch_size) ** 2, cfg.vision.width]],
    [V + 'encoder.layers.0.self_attn.q_proj.bias', [cfg.vision.width]],
    [V + 'encoder.layers.0.mlp.fc1.weight', [cfg.vision.mlp_dim, cfg.vision.width]],
    [V + 'post_layernorm.weight', [cfg.vision.width]],
    ['paligemma_with_expert.paligemma.model.multi_modal_projector.linear.weight', [cfg.llm.width, cfg.vision.width]],
    [LM + 'embed_tokens.weight', [cfg.llm.vocab_size, cfg.llm.width]],
    [LM + 'layers.1.self_attn.q_proj.weight', [cfg.llm.num_heads * hd, cfg.llm.width]],
    [LM + 'layers.1.self_attn.k_proj.weight', [cfg.llm.num_kv_heads * hd, cfg.llm.width]],
    [LM + 'layers.1.self_attn.o_proj.weight', [cfg.llm.width, cfg.llm.num_heads * hd]],
    [LM + 'layers.1.mlp.gate_proj.weight', [cfg.llm.mlp_dim, cfg.llm.width]],
    [LM + 'layers.1.post_attention_layernorm.weight', [cfg.llm.width]],
    [LM + 'norm.weight', [cfg.llm.width]],
    [AE + 'layers.0.self_attn.q_proj.weight', [cfg.llm.num_heads * hd, cfg.expert.width]],
    [AE + 'layers.0.self_attn.o_proj.weight', [cfg.expert.width, cfg.llm.num_heads * hd]],
    [AE + 'layers.0.mlp.down_proj.weight', [cfg.expert.width, cfg.expert.mlp_dim]],
    [AE + 'norm.weight', [cfg.expert.width]],
    ['state_proj.weight', [cfg.expert.width, cfg.state_dim]],
    ['action_in_proj.weight', [cfg.expert.width, cfg.action_dim]],
    ['action_time_mlp_in.weight', [cfg.expert.width, 2 * cfg.expert.width]],
    ['action_time_mlp_out.weight', [cfg.expert.width, cfg.expert.width]],
    ['action_out_proj.weight', [cfg.action_dim, cfg.expert.width]],
    ['cfg_embedding.weight', [2, cfg.expert.width]],
  ];
  for (const [name, shape] of expect) assert.equal(byName.get(name)?.shape, shape, name);
  assert.is(spec[0].name, V + 'embeddings.patch_embedding.weight');
  assert.is(spec[spec.length - 1].name, 'cfg_embedding.weight');
  // RMSNorm weights start at 0 ((1+w) form), LayerNorm weights at 1
  const p = m.params();
  assert.is(p[byName.get(LM + 'norm.weight')!.offset], 0);
  assert.is(p[byName.get(V + 'post_layernorm.weight')!.offset], 1);
});

// pi0.md §7 parameter count from a preset (SigLIP + projector, embedding, two Gemma stacks with final norms, the
// five projections); cfg_embedding [2, De] is ours and comes on top.
function specCount(c: Record<string, any>): number {
  const Dv = c.vision.width, Dl = c.llm.width, De = c.expert.width, hd = c.llm.head_dim, H = c.llm.num_heads;
  const A = c.action_dim, Ds = c.state_dim, Fv = c.vision.mlp_dim;
  const np = (c.image_size / c.patch_size) ** 2;
  const vit = Dv * 3 * c.patch_size ** 2 + Dv + np * Dv + c.vision.depth * (4 * (Dv * Dv + Dv) + 4 * Dv + 2 * Dv * Fv + Fv + Dv) +
    2 * Dv + Dl * Dv + Dl;
  const gemma = (D: number, F: number) =>
    c.llm.depth * (2 * H * hd * D + 2 * c.llm.num_kv_heads * hd * D + 3 * D * F + 2 * D) + D;
  const proj = (De * Ds + De) + (De * A + De) + (2 * De * De + De) + (De * De + De) + (A * De + A);
  return vit + c.llm.vocab_size * Dl + gemma(Dl, c.llm.mlp_dim) + gemma(De, c.expert.mlp_dim) + proj;
}

test('parameter count: pi0.md §7 for the pi0 preset; the native slab matches it (+ cfg_embedding)', () => {
  assert.is(specCount(JSON.parse(presetJson('pi0'))), 3238048528);
  for (const name of ['tiny', 'small'] as const) {
    const c = JSON.parse(presetJson(name));
    const m = new Pi0Model(presetJson(name), 1);
    assert.is(m.params().length, specCount(c) + 2 * c.expert.width, name);
  }
});

test.run();
