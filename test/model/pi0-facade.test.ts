// Pi0Policy's own logic over a JS double of the native model: the accumulation recipe of trainStep, checkpoint
// save/load through the facade, and batch validation. Runs without the addon.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadPi0Config } from '../../src/model/config.ts';
import type { AdamWOptions, LossBatch, NativePi0Model } from '../../src/model/native-types.ts';
import { Pi0Policy } from '../../src/model/pi0.ts';
import { fakeParams, fakeSpec, slabSize } from './fixtures/fake-spec.ts';

const config = loadPi0Config('tiny');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-facade-'));

function fakeModel(seed: number) {
  const spec = fakeSpec();
  const n = slabSize(spec);
  const calls: string[] = [];
  const state = { params: fakeParams(n, seed), grads: new Float32Array(n), m: fakeParams(n, seed + 1), v: fakeParams(n, seed + 2), step: 0 };
  const opts: AdamWOptions[] = [];
  const model: NativePi0Model = {
    paramSpec: () => spec,
    params: () => state.params,
    grads: () => state.grads,
    adamM: () => state.m,
    adamV: () => state.v,
    step: () => state.step,
    setStep: (k) => void (state.step = k),
    zeroGrad: () => void calls.push('zeroGrad'),
    device: () => 'cpu',
    loss: (b) => {
      calls.push(`loss(B=${b.batch}, backward=${b.backward})`);
      return { loss: b.batch, lossCond: new Float32Array(b.batch), lossUncond: null };
    },
    optimizerStep: (o) => {
      calls.push('optimizerStep');
      opts.push(o);
      state.step += 1;
      return { gradNorm: 0.5 };
    },
    sample: (b) => new Float32Array(b.batch * config.action_horizon * config.action_dim),
    setThreads: () => {},
  };
  return { model, calls, opts, state };
}

function batch(B: number): LossBatch {
  const S = config.image_size;
  return {
    batch: B,
    images: new Float32Array(B * config.num_cameras * S * S * 3),
    imageMask: new Uint8Array(B * config.num_cameras).fill(1),
    tokens: new Int32Array(B * config.max_token_len),
    tokenMask: new Uint8Array(B * config.max_token_len),
    state: new Float32Array(B * config.state_dim),
    actions: new Float32Array(B * config.action_horizon * config.action_dim),
  };
}

test('trainStep = zeroGrad, loss with backward per micro-batch, one optimizer step with gradScale / n', () => {
  const f = fakeModel(1);
  const p = Pi0Policy.fromModel(config, f.model);
  const r = p.trainStep([batch(2), batch(4)], { lrModel: 1e-5, lrHeader: 1e-4, gradScale: 0.5, clipNorm: 1 });
  assert.equal(f.calls, ['zeroGrad', 'loss(B=2, backward=true)', 'loss(B=4, backward=true)', 'optimizerStep']);
  assert.equal(f.opts[0], { lrModel: 1e-5, lrHeader: 1e-4, gradScale: 0.25, clipNorm: 1 });
  assert.equal(r, { loss: 3, losses: [2, 4], gradNorm: 0.5, step: 1 });
  assert.throws(() => p.trainStep([], { lrModel: 1, lrHeader: 1 }), /trainStep\.batches/);
});

test('save and load through the facade restore params, Adam state and step', () => {
  const a = fakeModel(1);
  const p = Pi0Policy.fromModel(config, a.model);
  p.trainStep([batch(1)], { lrModel: 1, lrHeader: 1 });
  p.save(path.join(tmp, 'ck'), { trainerState: { epoch: 2 } });
  const b = fakeModel(50);
  const q = Pi0Policy.fromModel(config, b.model);
  const ck = q.load(path.join(tmp, 'ck'));
  assert.is(q.step, 1);
  assert.equal(ck.trainerState, { epoch: 2 });
  assert.equal(Array.from(b.state.params), Array.from(a.state.params));
  assert.equal(Array.from(b.state.m), Array.from(a.state.m));
  assert.equal(Array.from(b.state.v), Array.from(a.state.v));
});

test('batches with wrong sizes fail before reaching native code, naming the field', () => {
  const f = fakeModel(1);
  const p = Pi0Policy.fromModel(config, f.model);
  assert.throws(() => p.loss({ ...batch(2), imageMask: new Uint8Array(3) }), (e: Error) => e.message.includes('LossBatch.imageMask') && e.message.includes('expected 4'));
  assert.throws(() => p.loss({ ...batch(1), tokens: new Int32Array(config.max_token_len).fill(64) }), /LossBatch\.tokens\[0\].*vocab/);
  assert.throws(() => p.sampleActions({ ...batch(1), noise: new Float32Array(1) }), /SampleBatch\.noise/);
  assert.equal(f.calls, []);
});

test.run();
