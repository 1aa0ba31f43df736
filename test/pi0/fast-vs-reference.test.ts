// The fast path (OpenBLAS + threads) against the plain float reference: per kernel, then the whole model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../../src/native.ts';
import { lossBatch, maxAbs, maxAbsDiff, pi0SelfTest, preset, presetJson } from './fixtures.ts';

const { Pi0Model } = native().pi0;
const selfTest = pi0SelfTest();

// Written-down tolerances (float32, different summation orders):
const KERNEL_TOL = 1e-5; // max |fast - ref| / max |ref| per kernel output and gradient
const LOSS_TOL = 1e-5; // relative, whole-model loss
const GRAD_TOL = 1e-4; // max |fast - ref| / max |ref| over each parameter tensor with a non-negligible gradient

for (const name of ['matmul', 'layernorm', 'rmsnorm', 'gelu', 'geglu', 'rope', 'attention_mqa', 'attention_mha']) {
  test(`fast kernel equals reference: ${name}`, () => {
    for (const seed of [1, 2, 3]) {
      const err = selfTest.fastCheck(name, seed);
      assert.ok(err < KERNEL_TOL, `${name} seed ${seed}: ${err}`);
    }
  });
}

test('fast model equals reference on tiny: CFG loss and every gradient tensor', () => {
  const json = presetJson('tiny');
  const cfg = preset('tiny');
  const ref = new Pi0Model(json, 11, { path: 'reference' });
  const fast = new Pi0Model(json, 11, { path: 'fast' });
  const batch = { ...lossBatch(cfg, 3, 5), isPositive: Uint8Array.from([1, 0, 1]), uncondWeight: 0.5 };
  batch.imageMask[1] = 0;
  batch.tokenMask[cfg.max_token_len - 1] = 0;
  ref.zeroGrad();
  fast.zeroGrad();
  const lr = ref.loss(batch);
  const lf = fast.loss(batch);
  assert.ok(Math.abs(lr.loss - lf.loss) <= LOSS_TOL * Math.abs(lr.loss), `loss ${lf.loss} vs ${lr.loss}`);
  assert.ok(maxAbsDiff(lr.lossCond, lf.lossCond) <= LOSS_TOL * maxAbs(lr.lossCond));
  const gr = ref.grads();
  const gf = fast.grads();
  const overall = maxAbs(gr);
  for (const e of ref.paramSpec()) {
    const a = gr.subarray(e.offset, e.offset + e.size);
    const b = gf.subarray(e.offset, e.offset + e.size);
    const scale = maxAbs(a);
    if (scale < 1e-6 * overall) continue; // unused tensors (VLM final norm, last-layer VLM MLP) stay ~0 in both
    assert.ok(maxAbsDiff(a, b) <= GRAD_TOL * scale, `${e.name}: ${maxAbsDiff(a, b)} vs scale ${scale}`);
  }
});

test('fast model equals reference on small: forward loss', () => {
  const json = presetJson('small');
  const cfg = preset('small');
  const ref = new Pi0Model(json, 3, { path: 'reference' });
  const fast = new Pi0Model(json, 3);
  const batch = { ...lossBatch(cfg, 2, 8), backward: false };
  const lr = ref.loss(batch);
  const lf = fast.loss(batch);
  assert.ok(Math.abs(lr.loss - lf.loss) <= LOSS_TOL * Math.abs(lr.loss), `loss ${lf.loss} vs ${lr.loss}`);
});

test.run();
