// The CUDA backend (cpp/pi0/cuda) against the CPU path: every kernel against the reference loops with the
// tolerances written in cpp/pi0/cuda/check.cu, then whole models (loss, gradients, an AdamW step, sampling) on the
// tiny and small presets, with fp32 GEMMs (tight) and bf16 tensor-core GEMMs (loose), and the same seed giving the
// same result twice. Needs an NVIDIA GPU: on a machine without one every test here is skipped, and says so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadPi0Config, type Pi0Config } from '../../src/model/config.ts';
import { cudaInfo, describeCuda } from '../../src/model/device.ts';
import type { LossBatch, SampleBatch } from '../../src/model/native-types.ts';
import { Pi0Policy } from '../../src/model/pi0.ts';
import { returnToBin, ValueModel } from '../../src/model/value.ts';
import { native } from '../../src/native.ts';

const info = cudaInfo();
const gpu = info.count > 0;
const gpuTest = gpu ? test : test.skip;
if (!gpu) console.log(`cuda.test.ts: every test skipped: ${describeCuda(info)}`);

function inputs(c: Pi0Config, B: number, seed: number): SampleBatch & { actions: Float32Array } {
  let s = seed;
  const u = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const f = (n: number, g: () => number) => Float32Array.from({ length: n }, g);
  const S = c.image_size;
  const tokenMask = new Uint8Array(B * c.max_token_len).fill(1);
  tokenMask.fill(0, c.max_token_len - 3, c.max_token_len); // padded prompt tail: the masks reach the kernels
  return {
    batch: B,
    images: f(B * c.num_cameras * S * S * 3, () => u() * 2 - 1),
    imageMask: new Uint8Array(B * c.num_cameras).fill(1),
    tokens: Int32Array.from({ length: B * c.max_token_len }, () => Math.floor(u() * c.llm.vocab_size)),
    tokenMask,
    state: f(B * c.state_dim, () => u() - 0.5),
    actions: f(B * c.action_horizon * c.action_dim, () => u() - 0.5),
    noise: f(B * c.action_horizon * c.action_dim, () => u() * 2 - 1),
    numSteps: 10,
  };
}

/** max |a - b| / max(1e-12, max |b|) */
function relErr(a: Float32Array, b: Float32Array): number {
  let worst = 0, big = 1e-12;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    big = Math.max(big, Math.abs(b[i]));
  }
  return worst / big;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

const ADAMW = { lrModel: 1e-4, lrHeader: 1e-3, weightDecay: 0.01, clipNorm: 1 };

gpuTest('every CUDA kernel matches the CPU reference within its written tolerance', () => {
  const checks = native().pi0.cudaKernelCheck!(7);
  for (const c of checks) console.log(`  ${c.pass ? 'ok  ' : 'FAIL'} ${c.name}: error ${c.error.toExponential(2)} (tol ${c.tol})`);
  const failed = checks.filter((c) => !c.pass).map((c) => c.name);
  assert.equal(failed, []);
  assert.ok(checks.length >= 20);
});

for (const preset of ['tiny', 'small']) {
  gpuTest(`${preset}: loss, gradients, one AdamW step and sampling match the CPU path (fp32 and bf16 GEMMs)`, () => {
    const c = loadPi0Config(preset);
    const batch: LossBatch = { ...inputs(c, 2, 3), seed: 11, uncondWeight: 0.5, isPositive: Uint8Array.of(1, 0) };
    const cpu = Pi0Policy.create({ preset, seed: 5, device: 'cpu' });
    const want = cpu.loss(batch);
    const wantGrads = cpu.grads().slice();
    cpu.trainStep([batch], ADAMW);
    const wantAct = cpu.sampleActions(inputs(c, 3, 9));
    for (const [gemm, tolLoss, tolGrad, minCos] of [['fp32', 1e-4, 1e-3, 0.99999], ['bf16', 3e-2, 1, 0.99]] as const) {
      native().pi0.cudaSetGemm!(gemm);
      const gpuModel = Pi0Policy.create({ preset, seed: 5, device: 'cuda' });
      assert.is(gpuModel.device, 'cuda');
      const got = gpuModel.loss(batch);
      const what = `${preset} ${gemm}`;
      assert.ok(Math.abs(got.loss - want.loss) <= tolLoss * Math.abs(want.loss), `${what} loss ${got.loss} vs ${want.loss}`);
      const g = gpuModel.grads().slice();
      assert.ok(relErr(g, wantGrads) <= tolGrad, `${what} gradient error ${relErr(g, wantGrads)}`);
      assert.ok(cosine(g, wantGrads) >= minCos, `${what} gradient cosine ${cosine(g, wantGrads)}`);
      gpuModel.trainStep([batch], ADAMW);
      if (gemm === 'fp32') {
        // A first AdamW step moves each weight by about lr * sign(g): a gradient near zero that rounds to the other
        // sign moves its weight by 2 lr the other way, so bound the worst difference by that and count them.
        const [p, q] = [gpuModel.params(), cpu.params()];
        let worst = 0, off = 0;
        for (let i = 0; i < p.length; i++) {
          const d = Math.abs(p[i] - q[i]);
          worst = Math.max(worst, d);
          if (d > 1e-6) off++;
        }
        assert.ok(worst <= 2.02 * ADAMW.lrHeader, `${what} weights after a step: worst difference ${worst}`);
        assert.ok(off <= 1e-3 * p.length, `${what} weights after a step: ${off} of ${p.length} differ by > 1e-6`);
      }
      const act = gpuModel.sampleActions(inputs(c, 3, 9));
      assert.ok(relErr(act, wantAct) <= (gemm === 'fp32' ? 1e-3 : 5e-2), `${what} sampled actions error ${relErr(act, wantAct)}`);
    }
    native().pi0.cudaSetGemm!('bf16');
  });
}

gpuTest('the same seed gives bit-identical losses, gradients and actions on the GPU', () => {
  const c = loadPi0Config('small');
  const run = () => {
    const m = Pi0Policy.create({ preset: 'small', seed: 2, device: 'cuda' });
    const r = m.trainStep([{ ...inputs(c, 4, 1), seed: 3 }], ADAMW);
    return { loss: r.loss, params: m.params().slice(), act: m.sampleActions(inputs(c, 2, 4)) };
  };
  const a = run(), b = run();
  assert.is(a.loss, b.loss);
  assert.equal(a.params, b.params);
  assert.equal(a.act, b.act);
});

gpuTest('tiny value model: loss and gradients match the CPU path', () => {
  const c = loadPi0Config('tiny');
  const { actions: _a, noise: _n, numSteps: _s, ...obs } = inputs(c, 3, 5);
  const batch = { ...obs, targetBin: Int32Array.from([-1, -0.4, 0], (r) => returnToBin(r, 201)) };
  native().pi0.cudaSetGemm!('fp32');
  const cpu = ValueModel.create({ preset: 'tiny', seed: 4, device: 'cpu' });
  const dev = ValueModel.create({ preset: 'tiny', seed: 4, device: 'cuda' });
  const want = cpu.loss(batch), got = dev.loss(batch);
  native().pi0.cudaSetGemm!('bf16');
  assert.ok(Math.abs(got.loss - want.loss) <= 1e-4 * Math.abs(want.loss), `value loss ${got.loss} vs ${want.loss}`);
  assert.ok(relErr(dev.grads(), cpu.grads()) <= 1e-3, `value gradient error ${relErr(dev.grads(), cpu.grads())}`);
});

test.run();
