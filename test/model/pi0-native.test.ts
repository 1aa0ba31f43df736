// Pi0Policy over the native model (tiny preset). Registers nothing until native().pi0.Pi0Model exists, so the
// suite passes before and after the native side lands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadPi0Config } from '../../src/model/config.ts';
import type { LossBatch, SampleBatch } from '../../src/model/native-types.ts';
import { hasNativePi0, Pi0Policy } from '../../src/model/pi0.ts';
import { bf16BitsToF32, f32ToBf16Bits } from '../../src/model/safetensors.ts';

const config = loadPi0Config('tiny');

function inputs(B: number, seed: number): SampleBatch & { actions: Float32Array } {
  let s = seed;
  const u = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const f = (n: number, g: () => number) => Float32Array.from({ length: n }, g);
  const S = config.image_size;
  return {
    batch: B,
    images: f(B * config.num_cameras * S * S * 3, () => u() * 2 - 1),
    imageMask: new Uint8Array(B * config.num_cameras).fill(1),
    tokens: Int32Array.from({ length: B * config.max_token_len }, () => Math.floor(u() * config.llm.vocab_size)),
    tokenMask: new Uint8Array(B * config.max_token_len).fill(1),
    state: f(B * config.state_dim, () => u() - 0.5),
    actions: f(B * config.action_horizon * config.action_dim, () => u() - 0.5),
    noise: f(B * config.action_horizon * config.action_dim, () => u() * 2 - 1),
    numSteps: 10,
  };
}

const ADAMW = { lrModel: 1e-3, lrHeader: 1e-3 };

if (!hasNativePi0()) {
  console.log('skipped: addon has no pi0 yet (test/model/pi0-native.test.ts)');
} else {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-pi0-'));

  test('paramSpec covers the slab, with cfg_embedding and the lerobot key names', () => {
    const p = Pi0Policy.create({ preset: 'tiny', seed: 1 });
    assert.is(p.spec.reduce((n, e) => n + e.size, 0), p.paramCount);
    const names = new Set(p.spec.map((e) => e.name));
    for (const n of ['cfg_embedding.weight', 'state_proj.weight', 'action_time_mlp_in.weight', 'paligemma_with_expert.paligemma.model.language_model.embed_tokens.weight']) {
      assert.ok(names.has(n), n);
    }
  });

  test('trainStep runs micro-batches and one optimizer step; sampling returns B*H*A finite actions', () => {
    const p = Pi0Policy.create({ preset: 'tiny', seed: 1 });
    const b: LossBatch = { ...inputs(2, 3), seed: 5 };
    const r = p.trainStep([b, { ...inputs(2, 4), seed: 6 }], ADAMW);
    assert.is(r.losses.length, 2);
    assert.ok(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm));
    assert.is(r.step, 1);
    assert.is(p.step, 1);
    const a = p.sampleActions(inputs(3, 9));
    assert.is(a.length, 3 * config.action_horizon * config.action_dim);
    assert.ok(a.every(Number.isFinite));
  });

  test('save/load through Pi0Policy restores weights, Adam state and step (F32 exact, BF16 rounded)', () => {
    const p = Pi0Policy.create({ preset: 'tiny', seed: 1 });
    p.trainStep([{ ...inputs(2, 3), seed: 5 }], ADAMW);
    const dir = path.join(tmp, 'ck');
    p.save(dir, { trainerState: { step: 1 } });
    const { policy: q, checkpoint } = Pi0Policy.fromCheckpoint(dir);
    assert.is(checkpoint.step, 1);
    assert.is(q.step, 1);
    assert.equal(checkpoint.trainerState, { step: 1 });
    assert.equal(Array.from(q.params()), Array.from(p.params()));
    const sample = inputs(1, 11);
    assert.equal(Array.from(q.sampleActions(sample)), Array.from(p.sampleActions(sample)));

    const dirBf = path.join(tmp, 'ck-bf16');
    p.save(dirBf, { dtype: 'BF16', optimizer: false });
    const r = Pi0Policy.create({ preset: 'tiny', seed: 2 });
    r.load(dirBf);
    assert.equal(Array.from(r.params()), Array.from(p.params(), (x) => bf16BitsToF32(f32ToBf16Bits(x))));
  });

  test('wrong batch sizes fail in TypeScript naming the field', () => {
    const p = Pi0Policy.create({ preset: 'tiny', seed: 1 });
    const b = inputs(2, 3);
    assert.throws(() => p.sampleActions({ ...b, state: new Float32Array(5) }), /SampleBatch\.state/);
    const bad = inputs(1, 3);
    bad.tokens[0] = config.llm.vocab_size;
    assert.throws(() => p.sampleActions(bad), /SampleBatch\.tokens\[0\]/);
  });

  test.run();
}
