// The CFG flow-matching loss: L = mean_b(w_b * L_cond_b) + alpha * mean_b(L_uncond_b), unconditional branch with
// the same noise and time, prefix run once; per-sample weights; padded steps and masked dims excluded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../../src/native.ts';
import { lossBatch, maxAbsDiff, maxAbs, preset, presetJson } from './fixtures.ts';
import type { NativePi0Model } from '../../src/model/native-types.ts';

const { Pi0Model } = native().pi0;
const cfg = preset('tiny');

// a model whose cfg_embedding is non-zero, so the two branches differ
function model(path: 'fast' | 'reference' = 'fast'): NativePi0Model {
  const m = new Pi0Model(presetJson('tiny'), 9, { path });
  const e = m.paramSpec().find((s) => s.name === 'cfg_embedding.weight')!;
  const p = m.params();
  for (let i = 0; i < e.size; i++) p[e.offset + i] = Math.sin(i * 1.7) * 0.5;
  return m;
}

for (const path of ['fast', 'reference'] as const) {
  test(`uncondWeight: loss and grads equal two separate calls with the same noise and time (${path})`, () => {
    const alpha = 0.3;
    const B = 3;
    const weights = Float32Array.from([1, 0.5, 2]);
    const isPositive = Uint8Array.from([1, 1, 0]);
    const base = { ...lossBatch(cfg, B, 3), weights, isPositive };

    const joint = model(path);
    joint.zeroGrad();
    const r = joint.loss({ ...base, uncondWeight: alpha });

    const sep = model(path);
    sep.zeroGrad();
    const rc = sep.loss(base);
    const ru = sep.loss({ ...base, isPositive: new Uint8Array(B), weights: new Float32Array(B).fill(alpha) });

    assert.ok(Math.abs(r.loss - (rc.loss + ru.loss)) < 1e-5 * Math.abs(r.loss), `${r.loss} vs ${rc.loss + ru.loss}`);
    assert.ok(maxAbsDiff(r.lossCond, rc.lossCond) < 1e-6);
    assert.ok(maxAbsDiff(r.lossUncond!, ru.lossCond) < 1e-6);
    // the unconditional branch really used cfg index 0 (differs from the conditional one)
    assert.ok(Math.abs(r.lossUncond![0] - r.lossCond[0]) > 1e-6);
    const g = joint.grads();
    assert.ok(maxAbsDiff(g, sep.grads()) < 1e-4 * maxAbs(g), `grad diff ${maxAbsDiff(g, sep.grads())}`);
  });
}

test('per-sample weights scale per-sample contributions; lossCond stays unweighted', () => {
  const m = model();
  const base = { ...lossBatch(cfg, 2, 4), backward: false };
  const plain = m.loss(base);
  const w = m.loss({ ...base, weights: Float32Array.from([3, 0]) });
  assert.ok(maxAbsDiff(plain.lossCond, w.lossCond) < 1e-7);
  assert.ok(Math.abs(w.loss - (3 * plain.lossCond[0]) / 2) < 1e-5 * w.loss);
  assert.is(w.lossUncond, null);
});

test('loss is the mean over valid (step, dim) of (v - u)^2: padded steps and masked dims drop out', () => {
  const m = model();
  const base = { ...lossBatch(cfg, 1, 6), backward: false };
  const H = cfg.action_horizon, A = cfg.action_dim, K = 7;
  const all = m.loss(base).loss;
  // dims: the mean over all dims is the count-weighted mean of the means over two complementary dim sets
  const low = new Uint8Array(A).fill(1).fill(0, K);
  const high = low.map((x) => 1 - x);
  const lLow = m.loss({ ...base, actionDimMask: low }).loss;
  const lHigh = m.loss({ ...base, actionDimMask: high }).loss;
  assert.ok(Math.abs(all - (K * lLow + (A - K) * lHigh) / A) < 1e-5 * all);
  // steps: the same with complementary padded steps
  const lastPad = new Uint8Array(H);
  lastPad[H - 1] = 1;
  const onlyLast = lastPad.map((x) => 1 - x);
  const lHead = m.loss({ ...base, actionIsPad: lastPad }).loss;
  const lTail = m.loss({ ...base, actionIsPad: onlyLast }).loss;
  assert.ok(Math.abs(all - ((H - 1) * lHead + lTail) / H) < 1e-5 * all);
  assert.not.equal(lHead, all);
  // all excluded gives 0 instead of NaN
  assert.is(m.loss({ ...base, actionIsPad: new Uint8Array(H).fill(1) }).loss, 0);
});

test('seeded noise and time: same seed same loss, other seed other loss; explicit noise/time override', () => {
  const m = model();
  const b = lossBatch(cfg, 2, 7);
  const seeded = { ...b, noise: undefined, time: undefined, backward: false };
  const a1 = m.loss({ ...seeded, seed: 1 }).loss;
  assert.is(m.loss({ ...seeded, seed: 1 }).loss, a1);
  assert.not.equal(m.loss({ ...seeded, seed: 2 }).loss, a1);
  assert.is(m.loss({ ...b, seed: 1, backward: false }).loss, m.loss({ ...b, seed: 2, backward: false }).loss);
});

test('backward accumulates: two calls give twice the gradient of one', () => {
  const m = model();
  const b = lossBatch(cfg, 2, 8);
  m.zeroGrad();
  m.loss(b);
  const once = Float32Array.from(m.grads());
  m.loss(b);
  const twice = m.grads();
  let worst = 0;
  for (let i = 0; i < once.length; i++) worst = Math.max(worst, Math.abs(twice[i] - 2 * once[i]));
  assert.ok(worst < 1e-5 * maxAbs(once));
  m.zeroGrad();
  assert.is(maxAbs(m.grads()), 0);
});

test.run();
