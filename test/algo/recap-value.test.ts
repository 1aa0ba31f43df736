// RECAP's value targets read from generated files (an expert demo without a success attr, a replayed success and a
// failure) land inside the bins, successes above failures; a normalizer too small for the data is refused naming the
// config key; a tiny pretrain writes a value checkpoint and metrics, and the fine-tune starts from it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { returnSpec } from '../../src/config/recap-config.ts';
import { trainValue, valueTargets } from '../../src/algo/recap/value.ts';
import { DemoDataset } from '../../src/data/dataset.ts';
import { returnToBin, ValueModel } from '../../src/model/value.ts';
import { expertDemo, mixedRollouts, tempDir, tinyContext } from './recap-fixtures.ts';

const dir = tempDir('value');
const demo = await expertDemo(dir);
const mixed = await mixedRollouts(dir, demo);

test('value targets: every frame of demos and rollouts lands in the 201 bins, successes above failures', async () => {
  const ctx = tinyContext(dir, demo, null);
  const data = await DemoDataset.open([demo, mixed], { horizon: 1 });
  try {
    const targets = valueTargets(data, returnSpec(ctx.config), ctx.where);
    const bins = targets.map((r) => Array.from(r, (x) => returnToBin(x, 201)));
    assert.equal(data.demos.map((d) => d.success), [true, true, false]);
    for (const [i, r] of targets.entries()) {
      assert.is(r.length, data.demos[i].steps);
      assert.ok(r.every((x) => x >= -1 && x <= 0), `demo ${i} inside [-1, 0]`);
      assert.ok(bins[i].every((k) => Number.isInteger(k) && k >= 0 && k <= 200));
    }
    assert.is(bins[0].at(-1), 200, 'the success frame of a demo is worth 0');
    assert.is(targets[2].at(-1)! * 1600, -1000, 'the last frame of a failure is worth c_neg');
    assert.ok(Math.min(...bins[0], ...bins[1]) > Math.max(...bins[2]), 'every success bin above every failure bin');
  } finally {
    data.close();
  }
});

test('value targets: a normalizer too small for the longest episode is refused, naming value.normalizer', async () => {
  const ctx = tinyContext(dir, demo, null, ['value.normalizer=1000']);
  const data = await DemoDataset.open([demo, mixed], { horizon: 1 });
  const need = Math.max(...data.demos.map((d) => d.steps)) - 1 + 1000;
  try {
    assert.throws(() => valueTargets(data, returnSpec(ctx.config), ctx.where), new RegExp(`recap.yaml .*value.normalizer 1000 .* at least ${need}`));
  } finally {
    data.close();
  }
  await trainValue(ctx, { stage: 'pretrain', data: [demo], out: path.join(dir, 'refused') }).then(
    () => assert.unreachable('training must refuse the spec'),
    (e: Error) => assert.match(e.message, /value.normalizer 1000/),
  );
  assert.not.ok(existsSync(path.join(dir, 'refused', 'checkpoints')));
});

test('value training: pretrain -> checkpoint with norm stats and metrics; finetune on demos + rollouts starts from it', async () => {
  const ctx = tinyContext(dir, demo, null);
  const pre = await trainValue(ctx, { stage: 'pretrain', data: [demo], out: path.join(dir, 'pre') });
  assert.ok(pre.endsWith(path.join('pre', 'checkpoints', 'step_000002')));
  for (const f of ['model.safetensors', 'norm_stats.json', 'trainer_state.json']) assert.ok(existsSync(path.join(pre, f)), f);
  const m = JSON.parse(readFileSync(path.join(dir, 'pre', 'metrics.json'), 'utf8'));
  assert.equal(m.train.map((r: { step: number }) => r.step), [1, 2]);
  assert.ok(m.train.every((r: { value_loss: number; value_l1: number }) => r.value_loss > 0 && r.value_l1 >= 0));
  const fine = await trainValue(ctx, { stage: 'finetune', data: [demo, path.dirname(mixed)], out: path.join(dir, 'fine'), from: pre });
  assert.is(ValueModel.fromCheckpoint(fine).model.step, 4, 'two more optimizer steps on the pretrained Adam state');
  assert.ok(ctx.lines.some((l) => /value finetune: \d+ frames of 3 episodes \(1 failed\)/.test(l)), ctx.lines.join('\n'));
  await trainValue(ctx, { stage: 'pretrain', data: [demo], out: path.join(dir, 'pre') }).then(
    () => assert.unreachable('a folder with checkpoints is refused'),
    (e: Error) => assert.match(e.message, /already holds value checkpoints/),
  );
  const other = tinyContext(dir, demo, null, ['value.bins=101']);
  await trainValue(other, { stage: 'finetune', data: [demo], out: path.join(dir, 'bins'), from: pre }).then(
    () => assert.unreachable('bins must match the checkpoint'),
    (e: Error) => assert.match(e.message, /recap.yaml: value.bins is 101 but the value checkpoint .* has 201 bins; set value.bins=201/),
  );
});

test.run();
