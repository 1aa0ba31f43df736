// Weights by name: exact F32 round trip, lerobot key variants, and errors that name the key, the shapes and the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { bf16BitsToF32, f32ToBf16Bits, readSafetensors, writeSafetensors, type TensorToWrite } from '../../src/model/safetensors.ts';
import { loadWeights, saveWeights } from '../../src/model/weights.ts';
import { fakeParams, fakeSpec, slabSize } from './fixtures/fake-spec.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-w-'));
const spec = fakeSpec();
const N = slabSize(spec);
const entry = (name: string) => spec.find((e) => e.name === name)!;
const slice = (p: Float32Array, name: string) => p.subarray(entry(name).offset, entry(name).offset + entry(name).size);

/** A file with the spec's tensors, renamed/reshaped/dropped by `edit` (name -> [fileName, tensor] | null). */
function writeVariant(name: string, params: Float32Array, edit: (n: string, t: TensorToWrite) => [string, TensorToWrite] | null, extra: [string, TensorToWrite][] = []): string {
  const p = path.join(tmp, name);
  const list: [string, TensorToWrite][] = [];
  for (const e of spec) {
    const r = edit(e.name, { shape: e.shape, data: slice(params, e.name) });
    if (r) list.push(r);
  }
  writeSafetensors(p, [...list, ...extra]);
  return p;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return assert.unreachable('expected an error') as never;
}

test('save then load is exact for F32, cfg_embedding included', () => {
  const src = fakeParams(N);
  const p = path.join(tmp, 'model.safetensors');
  saveWeights(p, spec, src);
  const names = [...readSafetensors(p).tensors.keys()];
  assert.equal(names, spec.map((e) => e.name));
  assert.ok(names.includes('cfg_embedding.weight'));
  const dst = new Float32Array(N);
  const { warnings } = loadWeights(p, spec, dst);
  assert.equal(warnings, []);
  assert.equal(Array.from(dst), Array.from(src));
});

test('BF16 save stores each weight rounded to nearest even', () => {
  const src = fakeParams(N, 7);
  const p = path.join(tmp, 'model-bf16.safetensors');
  saveWeights(p, spec, src, { dtype: 'BF16' });
  const dst = new Float32Array(N);
  loadWeights(p, spec, dst);
  assert.equal(Array.from(dst), Array.from(src, (x) => bf16BitsToF32(f32ToBf16Bits(x))));
});

test('a missing key fails naming the key, its shape and the file, and leaves the slab untouched', () => {
  const src = fakeParams(N);
  const q = 'paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj.weight';
  const p = writeVariant('missing.safetensors', src, (n, t) => (n === q ? null : [n, t]));
  const dst = new Float32Array(N).fill(9);
  const msg = errorOf(() => loadWeights(p, spec, dst));
  assert.ok(msg.includes(p), msg);
  assert.ok(msg.includes(q), msg);
  assert.ok(msg.includes('[6, 4]'), msg);
  assert.ok(dst.every((x) => x === 9));
});

test('a mis-shaped key fails naming the key, the expected and found shapes and the file', () => {
  const src = fakeParams(N);
  const q = 'paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj.weight';
  const p = writeVariant('shape.safetensors', src, (n, t) => [n, n === q ? { shape: [4, 6], data: t.data } : t]);
  const msg = errorOf(() => loadWeights(p, spec, new Float32Array(N)));
  for (const s of [p, q, 'expects [6, 4]', 'file has [4, 6]']) assert.ok(msg.includes(s), `${s} not in: ${msg}`);
});

test('lerobot checkpoints load: model. prefix, time_mlp_*, tied lm_head; extra keys warn; missing cfg_embedding keeps init', () => {
  const src = fakeParams(N, 3);
  const p = writeVariant(
    'lerobot.safetensors',
    src,
    (n, t) => {
      if (n === 'cfg_embedding.weight') return null;
      if (n.endsWith('embed_tokens.weight')) return ['model.paligemma_with_expert.paligemma.lm_head.weight', t];
      if (n.startsWith('action_time_mlp_')) return [`model.${n.slice('action_'.length)}`, t];
      return [`model.${n}`, t];
    },
    [['model.paligemma_with_expert.gemma_expert.lm_head.weight', { shape: [3, 4], data: new Float32Array(12) }]],
  );
  const dst = new Float32Array(N).fill(0.5);
  const { warnings } = loadWeights(p, spec, dst);
  for (const e of spec) {
    const want = e.name === 'cfg_embedding.weight' ? new Float32Array(e.size).fill(0.5) : slice(src, e.name);
    assert.equal(Array.from(slice(dst, e.name)), Array.from(want), e.name);
  }
  assert.ok(warnings.some((w) => w.includes('gemma_expert.lm_head.weight')), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('cfg_embedding.weight')), warnings.join('\n'));
});

test.run();
