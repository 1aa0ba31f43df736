// Flow sampling: deterministic given noise; the prefix(+state) KV cache equals recomputing the literal joint
// forward over all P+S tokens every step; CFG combination; exactly numSteps Euler steps from t = 1 to 0.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../../src/native.ts';
import { allFinite, maxAbs, maxAbsDiff, pi0SelfTest, preset, presetJson, sampleBatch } from './fixtures.ts';

const { Pi0Model } = native().pi0;
const selfTest = pi0SelfTest();
const cfg = preset('tiny');

// KV cache vs recompute: same math, different summation order in float
const CACHE_TOL = 1e-4; // max |cached - uncached| / max |uncached|

test('sampling is deterministic given noise (fast and reference)', () => {
  for (const path of ['fast', 'reference'] as const) {
    const m = new Pi0Model(presetJson('tiny'), 2, { path });
    const b = sampleBatch(cfg, 3, 1);
    const a = m.sample(b);
    assert.is(a.length, 3 * cfg.action_horizon * cfg.action_dim);
    assert.ok(allFinite(a));
    assert.equal(Array.from(m.sample(b)), Array.from(a));
    const other = m.sample({ ...b, noise: b.noise.map((x) => -x) });
    assert.ok(maxAbsDiff(other, a) > 1e-4);
  }
});

for (const cfgScale of [1, 2.5]) {
  for (const path of ['fast', 'reference'] as const) {
    test(`KV-cache sampling equals full joint recompute (cfgScale ${cfgScale}, ${path})`, () => {
      const b = { ...sampleBatch(cfg, 2, 3), cfgScale, numSteps: 4 };
      b.imageMask[3] = 0;
      b.tokenMask.fill(0, 4, cfg.max_token_len);
      const { cached, uncached } = selfTest.sampleCompare(presetJson('tiny'), 5, b, path);
      const err = maxAbsDiff(cached, uncached) / maxAbs(uncached);
      assert.ok(err < CACHE_TOL, `relative diff ${err}`);
    });
  }
}

test('one Euler step from t = 1 is x - v(x, 1); batch rows are independent', () => {
  const m = new Pi0Model(presetJson('tiny'), 2);
  const b = sampleBatch(cfg, 2, 4);
  const two = m.sample({ ...b, numSteps: 1 });
  const n = cfg.action_horizon * cfg.action_dim;
  const first = m.sample({
    batch: 1,
    images: b.images.subarray(0, b.images.length / 2),
    imageMask: b.imageMask.subarray(0, cfg.num_cameras),
    tokens: b.tokens.subarray(0, cfg.max_token_len),
    tokenMask: b.tokenMask.subarray(0, cfg.max_token_len),
    state: b.state.subarray(0, cfg.state_dim),
    noise: b.noise.subarray(0, n),
    numSteps: 1,
  });
  assert.ok(maxAbsDiff(first, two.subarray(0, n)) < 1e-5 * maxAbs(first));
});

test('cfgScale 1 equals the positive branch; other scales move the result', () => {
  const m = new Pi0Model(presetJson('tiny'), 2);
  const e = m.paramSpec().find((s) => s.name === 'cfg_embedding.weight')!;
  const p = m.params();
  for (let i = 0; i < e.size; i++) p[e.offset + i] = Math.cos(i) * 0.5;
  const b = { ...sampleBatch(cfg, 2, 5), numSteps: 3 };
  const s1 = m.sample(b);
  const s2 = m.sample({ ...b, cfgScale: 2 });
  assert.ok(maxAbsDiff(s1, s2) > 1e-4);
  assert.ok(allFinite(s2));
});

test.run();
