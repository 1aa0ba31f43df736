// AdamW in native code: overfitting one batch, global-norm clipping, grad scale, step counter, header group LR.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../../src/native.ts';
import { lossBatch, maxAbsDiff, preset, presetJson } from './fixtures.ts';

const { Pi0Model } = native().pi0;
const cfg = preset('tiny');

test('AdamW overfits one batch: loss falls by more than 10x', () => {
  const m = new Pi0Model(presetJson('tiny'), 1);
  const b = { ...lossBatch(cfg, 4, 2), actionDimMask: new Uint8Array(cfg.action_dim).fill(1, 0, 7) };
  let first = 0;
  let last = 0;
  for (let step = 0; step < 300; step++) {
    m.zeroGrad();
    const r = m.loss(b);
    if (step === 0) first = r.loss;
    last = r.loss;
    m.optimizerStep({ lrModel: 2e-3, lrHeader: 2e-3, weightDecay: 0.01, clipNorm: 1 });
    if (last < first / 20) break;
  }
  assert.ok(last < first / 10, `loss ${first} -> ${last}`);
  assert.ok(m.step() > 0);
});

test('gradNorm is the pre-clip global norm of the scaled gradient; clipping bounds the update', () => {
  const m = new Pi0Model(presetJson('tiny'), 1);
  m.zeroGrad();
  m.loss(lossBatch(cfg, 2, 3));
  const g = m.grads();
  let ss = 0;
  for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  const before = Float32Array.from(m.params());
  const { gradNorm } = m.optimizerStep({ lrModel: 1e-3, lrHeader: 1e-3, clipNorm: 1e-3, gradScale: 0.5 });
  assert.ok(Math.abs(gradNorm - 0.5 * Math.sqrt(ss)) < 1e-4 * gradNorm, `${gradNorm} vs ${0.5 * Math.sqrt(ss)}`);
  // first Adam step moves each weight by about lr (sign of the gradient) whatever the clip
  assert.ok(maxAbsDiff(before, m.params()) <= 1.01e-3);
  assert.is(m.step(), 1);
  m.setStep(41);
  assert.is(m.step(), 41);
});

test('group learning rates: lrHeader = 0 freezes the header, lrModel = 0 the rest', () => {
  const m = new Pi0Model(presetJson('tiny'), 1);
  const spec = m.paramSpec();
  m.zeroGrad();
  m.loss(lossBatch(cfg, 2, 4));
  const before = Float32Array.from(m.params());
  m.optimizerStep({ lrModel: 1e-3, lrHeader: 0 });
  const after = m.params();
  for (const e of spec) {
    const moved = maxAbsDiff(before.subarray(e.offset, e.offset + e.size), after.subarray(e.offset, e.offset + e.size));
    if (e.group === 'header') assert.is(moved, 0, e.name);
  }
  const headerNames = spec.filter((e) => e.group === 'header').map((e) => e.name).sort();
  assert.equal(headerNames, [
    'action_in_proj.bias', 'action_in_proj.weight', 'action_out_proj.bias', 'action_out_proj.weight',
    'action_time_mlp_in.bias', 'action_time_mlp_in.weight', 'action_time_mlp_out.bias', 'action_time_mlp_out.weight',
    'cfg_embedding.weight', 'state_proj.bias', 'state_proj.weight',
  ]);
});

test('adam state is exposed and resumable: same state + same step gives the same update', () => {
  const a = new Pi0Model(presetJson('tiny'), 1);
  const b = new Pi0Model(presetJson('tiny'), 1);
  const batch = lossBatch(cfg, 2, 5);
  const opts = { lrModel: 1e-3, lrHeader: 1e-3 };
  for (let i = 0; i < 2; i++) {
    a.zeroGrad();
    a.loss(batch);
    a.optimizerStep(opts);
  }
  b.params().set(a.params());
  b.adamM().set(a.adamM());
  b.adamV().set(a.adamV());
  b.setStep(a.step());
  for (const m of [a, b]) {
    m.zeroGrad();
    m.loss(batch);
    m.optimizerStep(opts);
  }
  assert.equal(Array.from(b.params()), Array.from(a.params()));
});

test.run();
