// The value model (cpp/pi0/value.h, src/model/value.ts) on the tiny preset: gradients, fast path, the uniform start,
// learning to tell two observations apart, masking, checkpoints (and refusing PI0 ones), PI0 init, bad batches.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { CHECKPOINT_FILES } from '../../src/model/checkpoint.ts';
import { loadPi0Config } from '../../src/model/config.ts';
import type { ObsBatch, ValueLossBatch } from '../../src/model/native-types.ts';
import { native } from '../../src/native.ts';
import { Pi0Policy } from '../../src/model/pi0.ts';
import { returnToBin, valueBinCentre, ValueModel, VALUE_TENSOR_PREFIX } from '../../src/model/value.ts';
import { maxAbs, maxAbsDiff, normal, pi0SelfTest, presetJson, rng } from '../pi0/fixtures.ts';

const config = loadPi0Config('tiny');
const K = 201;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-value-'));

// Written-down tolerances: finite differences in double as test/pi0/gradcheck.test.ts; float32 fast vs reference as
// test/pi0/fast-vs-reference.test.ts.
const GRAD_CHECK_TOL = 1e-5;
const LOSS_TOL = 1e-5;
const GRAD_TOL = 1e-4;

function obs(B: number, seed: number): ObsBatch {
  const r = rng(seed);
  const C = config.num_cameras, S = config.image_size, L = config.max_token_len;
  return {
    batch: B,
    images: Float32Array.from({ length: B * C * S * S * 3 }, () => r() * 2 - 1),
    imageMask: new Uint8Array(B * C).fill(1),
    tokens: Int32Array.from({ length: B * L }, () => Math.floor(r() * config.llm.vocab_size)),
    tokenMask: new Uint8Array(B * L).fill(1),
    state: normal(r, B * config.state_dim, 0.5),
  };
}

function lossBatch(B: number, seed: number, returns: number[]): ValueLossBatch {
  return { ...obs(B, seed), targetBin: Int32Array.from(returns, (r) => returnToBin(r, K)) };
}

function argmax(logits: Float32Array, b: number): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (logits[b * K + k] > logits[b * K + best]) best = k;
  return best;
}

// Randomise the zero-initialised head (and every other tensor a little) so gradients reach the whole model.
function perturb(m: ValueModel, seed: number): void {
  const p = m.params();
  const noise = normal(rng(seed), p.length, 0.05);
  for (let i = 0; i < p.length; i++) p[i] += noise[i];
}

test('bin mapping: r = -1 -> 0, r = 0 -> K-1, and bin k stands for -1 + k/(K-1)', () => {
  assert.is(returnToBin(-1, K), 0);
  assert.is(returnToBin(0, K), K - 1);
  assert.is(returnToBin(-0.5, K), 100);
  for (const r of [-0.9, -0.37, -0.01]) assert.ok(Math.abs(valueBinCentre(returnToBin(r, K), K) - r) <= 0.5 / (K - 1) + 1e-12);
  assert.throws(() => returnToBin(-1.2, K), /returnToBin\(r\): is -1\.2, outside \[-1, 0\]/);
});

test('gradient check in double: every tensor (vision, LLM, state_proj, readout, head), CE + MSE, weights, masks', () => {
  const selfTest = pi0SelfTest();
  for (const seed of [1, 2, 3]) {
    const err = selfTest.valueGradCheck(seed);
    assert.ok(err < GRAD_CHECK_TOL, `small config seed ${seed}: max relative error ${err}`);
  }
  const err = selfTest.valueGradCheck(7, presetJson('tiny'), K);
  assert.ok(err < GRAD_CHECK_TOL, `tiny preset, ${K} bins: max relative error ${err}`);
});

test('fast path equals the reference: loss, per-sample CE and values, logits, every gradient tensor', () => {
  const ref = ValueModel.create({ preset: 'tiny', seed: 11, path: 'reference', threads: 1 });
  const fast = ValueModel.create({ preset: 'tiny', seed: 11, path: 'fast', threads: 2 });
  perturb(ref, 4);
  perturb(fast, 4);
  const batch: ValueLossBatch = {
    ...lossBatch(3, 5, [-0.9, -0.4, 0]),
    weights: Float32Array.from([1, 0.5, 2]),
    targetValue: Float32Array.from([-0.9, -0.4, 0]),
    mseWeight: 0.5,
  };
  batch.imageMask[1] = 0;
  batch.tokenMask[config.max_token_len - 1] = 0;
  const lr = ref.loss(batch);
  const lf = fast.loss(batch);
  assert.ok(Math.abs(lr.loss - lf.loss) <= LOSS_TOL * Math.abs(lr.loss), `loss ${lf.loss} vs ${lr.loss}`);
  assert.ok(maxAbsDiff(lr.ce, lf.ce) <= LOSS_TOL * maxAbs(lr.ce));
  assert.ok(maxAbsDiff(lr.values, lf.values) <= LOSS_TOL);
  const pr = ref.predict(batch).logits;
  const pf = fast.predict(batch).logits;
  assert.ok(maxAbsDiff(pr, pf) <= LOSS_TOL * maxAbs(pr));
  const gr = ref.grads();
  const gf = fast.grads();
  const overall = maxAbs(gr);
  for (const e of ref.spec) {
    const a = gr.subarray(e.offset, e.offset + e.size);
    const scale = maxAbs(a);
    // a SigLIP key bias shifts every logit of a query row equally, so softmax gives it no gradient
    if (e.name.endsWith('k_proj.bias')) assert.ok(scale < 1e-6 * overall, e.name);
    else assert.ok(maxAbsDiff(a, gf.subarray(e.offset, e.offset + e.size)) <= GRAD_TOL * scale, e.name);
  }
});

test('a fresh model predicts the uniform distribution: every value is the mean bin value -0.5, CE = ln K', () => {
  const m = ValueModel.create({ preset: 'tiny', seed: 2, threads: 1 });
  assert.is(m.bins, K);
  const p = m.predict(obs(3, 1));
  assert.is(p.logits.length, 3 * K);
  assert.is(maxAbs(p.logits), 0);
  for (const v of p.values) assert.ok(Math.abs(v - -0.5) < 1e-6, `${v}`);
  const r = m.loss({ ...lossBatch(3, 1, [-1, -0.5, 0]), backward: false });
  for (const ce of r.ce) assert.ok(Math.abs(ce - Math.log(K)) < 1e-5);
});

test('training on a fixed batch drives CE down and separates two observations with different returns', () => {
  const m = ValueModel.create({ preset: 'tiny', seed: 3, threads: 1 });
  const returns = [-0.8, -0.1];
  const batch = lossBatch(2, 9, returns);
  batch.tokens.fill(3); // same prompt: only the images and the state tell the two apart
  const first = m.trainStep([batch], { lrModel: 1e-3, lrHeader: 1e-2 });
  let last = first;
  for (let i = 0; i < 40; i++) last = m.trainStep([batch], { lrModel: 1e-3, lrHeader: 1e-2 });
  assert.ok(Math.abs(first.loss - Math.log(K)) < 1e-5, `first loss ${first.loss}`);
  assert.ok(last.loss < 0.05 * first.loss, `loss ${first.loss} -> ${last.loss}`);
  assert.is(m.step, 41);
  const p = m.predict(batch);
  assert.equal([argmax(p.logits, 0), argmax(p.logits, 1)], Array.from(batch.targetBin));
  for (let b = 0; b < 2; b++) assert.ok(Math.abs(p.values[b] - returns[b]) < 0.05, `sample ${b}: ${p.values[b]}`);
});

test('padding is masked: tokens under tokenMask 0 and the images of a masked camera do not change the prediction', () => {
  const m = ValueModel.create({ preset: 'tiny', seed: 4, threads: 1 });
  perturb(m, 5);
  const a = obs(2, 3);
  a.tokenMask.fill(0, config.max_token_len - 2, config.max_token_len);
  a.imageMask[1] = 0;
  const b: ObsBatch = { ...a, tokens: a.tokens.slice(), images: a.images.slice() };
  b.tokens[config.max_token_len - 1] = (b.tokens[config.max_token_len - 1] + 1) % config.llm.vocab_size;
  const camFloats = config.image_size * config.image_size * 3;
  b.images.fill(0.25, camFloats, 2 * camFloats);
  assert.equal(Array.from(m.predict(b).logits), Array.from(m.predict(a).logits));
  const c: ObsBatch = { ...a, tokens: a.tokens.slice() };
  c.tokens[0] = (c.tokens[0] + 1) % config.llm.vocab_size; // a valid token does matter, and so does the state
  assert.ok(maxAbsDiff(m.predict(c).logits, m.predict(a).logits) > 1e-6);
  const d: ObsBatch = { ...a, state: a.state.map((x) => x + 0.5) };
  assert.ok(maxAbsDiff(m.predict(d).logits, m.predict(a).logits) > 1e-6);
});

test('save / fromCheckpoint round trip: identical logits, bins, step and Adam state', () => {
  const m = ValueModel.create({ preset: 'tiny', bins: 51, seed: 6, threads: 1 });
  const batch: ValueLossBatch = { ...obs(2, 7), targetBin: Int32Array.from([3, 40]) };
  m.trainStep([batch], { lrModel: 1e-3, lrHeader: 1e-2 });
  m.trainStep([batch], { lrModel: 1e-3, lrHeader: 1e-2 });
  const dir = path.join(tmp, 'value-ck');
  m.save(dir, { trainerState: { step: 2 } });
  const saved = JSON.parse(readFileSync(path.join(dir, CHECKPOINT_FILES.config), 'utf8'));
  assert.is(saved.value_bins, 51);
  const { model: q, checkpoint } = ValueModel.fromCheckpoint(dir, { threads: 1 });
  assert.is(q.bins, 51);
  assert.is(q.step, 2);
  assert.is(checkpoint.valueBins, 51);
  assert.equal(checkpoint.trainerState, { step: 2 });
  assert.equal(Array.from(q.params()), Array.from(m.params()));
  assert.equal(Array.from(q.predict(batch).logits), Array.from(m.predict(batch).logits));
  // the next step matches too, so the Adam state came back
  const r1 = m.trainStep([batch], { lrModel: 1e-3, lrHeader: 1e-2 });
  const r2 = q.trainStep([batch], { lrModel: 1e-3, lrHeader: 1e-2 });
  assert.is(r2.loss, r1.loss);
  assert.equal(Array.from(q.params()), Array.from(m.params()));
  // a model with other bins refuses it
  const other = ValueModel.create({ preset: 'tiny', bins: 11, threads: 1 });
  assert.throws(() => other.load(dir), /config\.json: value_bins: is 51 in the checkpoint but 11 in the model/);
});

test('PI0 and value checkpoints refuse each other, naming config.json and value_bins', () => {
  const policy = Pi0Policy.create({ preset: 'tiny', seed: 1 });
  const pi0Dir = path.join(tmp, 'pi0-ck');
  policy.save(pi0Dir, { optimizer: false });
  const pi0Config = path.join(pi0Dir, CHECKPOINT_FILES.config);
  assert.throws(() => ValueModel.fromCheckpoint(pi0Dir), (e: Error) => e.message.startsWith(`${pi0Config}: value_bins: is missing: this is a PI0 policy checkpoint`) && /initFromPi0/.test(e.message));
  const m = ValueModel.create({ preset: 'tiny', threads: 1 });
  assert.throws(() => m.load(pi0Dir), /this is a PI0 policy checkpoint, not a value model/);

  const valueDir = path.join(tmp, 'value-ck-2');
  m.save(valueDir);
  const valueConfig = path.join(valueDir, CHECKPOINT_FILES.config);
  assert.throws(() => Pi0Policy.fromCheckpoint(valueDir), (e: Error) => e.message.startsWith(`${valueConfig}: value_bins: is ${K}: this is a value-model checkpoint`));
  assert.throws(() => policy.load(valueDir), /this is a value-model checkpoint, not a PI0 policy/);
  assert.throws(() => m.initFromPi0(valueDir), /this is a value-model checkpoint/);
});

test('initFromPi0 copies the vision + language tensors by name and leaves value.* at their init', () => {
  const policy = Pi0Policy.create({ preset: 'tiny', seed: 21 });
  const dir = path.join(tmp, 'pi0-init');
  policy.save(dir, { optimizer: false });
  const m = ValueModel.create({ preset: 'tiny', seed: 22, threads: 1 });
  const before = m.params().slice();
  const r = m.initFromPi0(dir);
  const pi0Spec = new Map(policy.spec.map((e) => [e.name, e]));
  const shared = m.spec.filter((e) => !e.name.startsWith(VALUE_TENSOR_PREFIX));
  assert.ok(shared.length > 0);
  assert.equal(r.loaded, shared.map((e) => e.name));
  assert.equal(r.initialised, ['value.state_proj.weight', 'value.state_proj.bias', 'value.readout', 'value.head.weight', 'value.head.bias']);
  for (const e of m.spec) {
    const got = Array.from(m.params().subarray(e.offset, e.offset + e.size));
    const src = pi0Spec.get(e.name);
    if (e.name.startsWith(VALUE_TENSOR_PREFIX)) {
      assert.is(e.group, 'header', e.name);
      assert.equal(got, Array.from(before.subarray(e.offset, e.offset + e.size)), e.name);
    } else {
      assert.ok(src, `${e.name} is a PI0 tensor name`);
      assert.equal(got, Array.from(policy.params().subarray(src!.offset, src!.offset + src!.size)), e.name);
    }
  }
  assert.ok(r.warnings.some((w) => /ignored \d+ tensor/.test(w) && /gemma_expert/.test(w)), r.warnings.join('\n'));
});

test('bad batches throw naming the field, in TypeScript and in the binding', () => {
  const m = ValueModel.create({ preset: 'tiny', threads: 1 });
  const good = lossBatch(2, 1, [-0.5, -0.2]);
  assert.throws(() => m.loss({ ...good, state: new Float32Array(3) }), /ValueLossBatch\.state: has 3 values, expected 64/);
  assert.throws(() => m.loss({ ...good, targetBin: Int32Array.from([0]) }), /ValueLossBatch\.targetBin: has 1 values/);
  assert.throws(() => m.loss({ ...good, targetBin: Int32Array.from([0, K]) }), /ValueLossBatch\.targetBin\[1\]: is 201, outside \[0, 201\)/);
  assert.throws(() => m.loss({ ...good, targetBin: Int32Array.from([-1, 0]) }), /ValueLossBatch\.targetBin\[0\]: is -1/);
  assert.throws(() => m.loss({ ...good, weights: Float32Array.from([1, -1]) }), /ValueLossBatch\.weights\[1\]/);
  assert.throws(() => m.loss({ ...good, mseWeight: 1 }), /ValueLossBatch\.targetValue: is missing/);
  assert.throws(() => m.predict({ ...obs(2, 1), imageMask: new Uint8Array(1) }), /ObsBatch\.imageMask: has 1 values/);

  const raw = new (native().pi0.ValueModel)(presetJson('tiny'), 1, { bins: 11, threads: 1 });
  assert.throws(() => raw.loss({ ...good, targetBin: Int32Array.from([0, 11]) }), /loss\(\): batch\.targetBin: bin 11 at index 1 is outside \[0, bins=11\)/);
  assert.throws(() => raw.loss({ ...good, targetBin: new Float32Array(2) as unknown as Int32Array }), /loss\(\): batch\.targetBin: expected a Int32Array/);
  assert.throws(() => raw.loss({ ...good, targetBin: Int32Array.from([0, 1]), weights: new Float32Array(2) }), /loss\(\): batch\.weights: all zero/);
  assert.throws(() => raw.predict({ ...obs(2, 1), state: new Float32Array(5) }), /predict\(\): batch\.state: expected 64 elements, got 5/);
  assert.throws(() => new (native().pi0.ValueModel)(presetJson('tiny'), 1, { bins: 1 }), /new ValueModel\(\): options\.bins/);
});

test.run();
