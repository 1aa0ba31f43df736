// The same seed gives the same model: identical initial weights, and identical weights after seeded training
// steps (seeded noise and time), whatever the thread count; another seed gives other weights.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../../src/native.ts';
import type { NativePi0Model } from '../../src/model/native-types.ts';
import { lossBatch, preset, presetJson } from './fixtures.ts';

const { Pi0Model } = native().pi0;
const cfg = preset('tiny');

function train(seed: number, threads: number): NativePi0Model {
  const m = new Pi0Model(presetJson('tiny'), seed);
  m.setThreads(threads);
  for (let step = 0; step < 3; step++) {
    m.zeroGrad();
    m.loss({ ...lossBatch(cfg, 3, 10 + step), noise: undefined, time: undefined, seed: 100 + step });
    m.optimizerStep({ lrModel: 1e-3, lrHeader: 1e-3, weightDecay: 0.01, clipNorm: 1 });
  }
  return m;
}

test('same seed: identical initial weights; other seed: other weights', () => {
  const a = new Pi0Model(presetJson('tiny'), 7).params();
  const b = new Pi0Model(presetJson('tiny'), 7).params();
  const c = new Pi0Model(presetJson('tiny'), 8).params();
  assert.ok(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
  assert.not.equal(Array.from(a.subarray(0, 64)), Array.from(c.subarray(0, 64)));
});

test('same seed and batches: bit-identical weights after training, with 1 or 2 threads', () => {
  const a = train(3, 1).params();
  const b = train(3, 1).params();
  const c = train(3, 2).params();
  const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  assert.ok(bytes(a).equals(bytes(b)), 'two runs with one thread differ');
  assert.ok(bytes(a).equals(bytes(c)), 'one thread and two threads differ');
});

test.run();
