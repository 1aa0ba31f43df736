// Presets: load by name or path, derived sizes, errors naming file/field/fix, and the analytic FLOP count.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { configMismatch, loadPi0Config, pi0Sizes, PRESET_DIR } from '../../src/model/config.ts';
import { pi0Flops, sampleFlops } from '../../src/model/flops.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-cfg-'));

test('presets load and derive P = C*(S/p)^2 + L and suffix 1 + H', () => {
  const small = loadPi0Config('small');
  assert.equal(pi0Sizes(small), {
    grid: 6,
    tokensPerImage: 36,
    imageTokens: 72,
    prefixLen: 88,
    suffixLen: 51,
    seqLen: 139,
    imageFloats: 96 * 96 * 3,
    visionHeadDim: 64,
  });
  const pi0 = pi0Sizes(loadPi0Config('pi0'));
  assert.is(pi0.prefixLen, 816); // openpi: 3 * 256 + 48
  assert.is(pi0.seqLen, 867);
  assert.is(pi0Sizes(loadPi0Config('tiny')).prefixLen, 2 * 4 + 6);
  assert.equal(loadPi0Config(path.join(PRESET_DIR, 'tiny.json')), loadPi0Config('tiny'));
});

test('bad presets fail naming the file, the field and the fix', () => {
  const good = loadPi0Config('tiny');
  const write = (name: string, value: unknown) => {
    const f = path.join(tmp, name);
    writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value));
    return f;
  };
  const cases: [string, unknown, string[]][] = [
    ['neg.json', { ...good, vision: { ...good.vision, width: -3 } }, ["'vision.width'", '> 0']],
    ['type.json', { ...good, max_token_len: '6' }, ["'max_token_len'", 'must be a number']],
    ['extra.json', { ...good, llm: { ...good.llm, rope: 1 } }, ["'llm.rope'", 'unknown field']],
    ['patch.json', { ...good, patch_size: 15 }, ["'patch_size'", 'must divide image_size']],
    ['missing.json', { ...good, expert: { width: 24 } }, ["'expert.mlp_dim'"]],
    ['syntax.json', '{ "name": ', ['not valid JSON']],
  ];
  for (const [name, value, needles] of cases) {
    const f = write(name, value);
    try {
      loadPi0Config(f);
      assert.unreachable(name);
    } catch (e) {
      const msg = (e as Error).message;
      for (const n of [f, 'Fix:', ...needles]) assert.ok(msg.includes(n), `${name}: ${n} not in: ${msg}`);
    }
  }
  assert.throws(() => loadPi0Config('huge'), (e: Error) => e.message.includes('tiny, small, pi0'));
});

test('configMismatch ignores the name and reports the first differing field', () => {
  const a = loadPi0Config('tiny');
  assert.is(configMismatch(a, { ...a, name: 'x' }), null);
  assert.equal(configMismatch(a, { ...a, expert: { ...a.expert, mlp_dim: 50 } }), { field: 'expert.mlp_dim', a: 48, b: 50 });
});

test('FLOP count matches pi0.md §7 for the openpi LIBERO layout', () => {
  const f = pi0Flops(loadPi0Config('pi0'));
  const near = (x: number, want: number, rel: number) => Math.abs(x - want) <= rel * want;
  assert.ok(near(f.siglip, 0.66e12, 0.01), `siglip ${f.siglip}`);
  assert.ok(near(f.prefixLayers + f.suffixLayers, 3.27e12, 0.01), `llm+ae ${f.prefixLayers + f.suffixLayers}`);
  assert.ok(near(f.jointAttention, 0.11e12, 0.02), `attn ${f.jointAttention}`);
  assert.ok(near(f.forward, 4.04e12, 0.01), `forward ${f.forward}`);
  assert.is(f.train, 3 * f.forward);
  // Per denoise step 38.6 GFLOP of expert work in the spec (matmuls); ours adds the suffix attention.
  assert.ok(near(f.sampleStep, 38.6e9, 0.1), `step ${f.sampleStep}`);
  assert.ok(near(sampleFlops(f, 10), 4.38e12, 0.03), `chunk ${sampleFlops(f, 10)}`);
});

test.run();
