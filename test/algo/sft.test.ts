// `riptide sft` end to end with the tiny model: demos collected by the scripted expert are trained on with
// full-step enumeration, metrics and a checkpoint (with the data's norm stats) are written, and the checkpoint is
// evaluated in the simulator on the held-out init states.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { SftTrainer } from '../../src/algo/sft-trainer.ts';
import { demosCollect } from '../../src/cli/demos.ts';
import { loadSftConfig } from '../../src/config/sft-config.ts';
import { DemoDataset } from '../../src/data/dataset.ts';
import { readNormStats } from '../../src/model/norm-stats.ts';

test('sft: tiny model on expert demos -> loss records, a checkpoint with the data norm stats, an evaluation', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-sft-'));
  const demos = path.join(tmp, 'demos');
  const log = console.log;
  console.log = () => {};
  try {
    await demosCollect({ tasks: ['libero_goal/0'], perTask: 2, out: demos, seed: 0, image: 32, workers: 0 });
  } finally {
    console.log = log;
  }
  const out = path.join(tmp, 'run');
  const config = loadSftConfig(undefined, [
    `output_dir=${out}`,
    `data.paths=[${demos}]`,
    'policy.preset=tiny',
    'train.steps=4',
    'train.batch_size=8',
    'train.micro_batch_size=4',
    'train.lr=1e-3',
    'train.warmup_steps=0',
    'train.log_freq=2',
    'eval.freq=4',
    'eval.init_states=1',
    'eval.env_actors=1',
    'eval.num_parallel_envs=1',
    'runtime.threads=1',
  ]);
  const t = new SftTrainer(config, { log: () => {} });
  try {
    const evals = await t.run();
    assert.is(evals.length, 1);
    assert.equal(Object.keys(evals[0].per_task), ['libero_goal/0']);
    assert.is(evals[0].episodes, 1);
  } finally {
    t.close();
  }
  const m = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8'));
  assert.equal(m.train.map((r: { step: number }) => r.step), [2, 4]);
  assert.ok(m.train.every((r: { fm_loss: number }) => Number.isFinite(r.fm_loss) && r.fm_loss > 0));
  const ck = path.join(out, 'checkpoints', 'step_000004');
  assert.ok(existsSync(path.join(ck, 'model.safetensors')));
  const data = await DemoDataset.open([demos], { horizon: 8 });
  try {
    const want = data.normStats();
    const got = readNormStats(path.join(ck, 'norm_stats.json'));
    got.actions.mean.forEach((v, i) => assert.ok(Math.abs(v - want.actions.mean[i]) < 1e-5, `action mean ${i}`));
    got.state.std.forEach((v, i) => assert.ok(Math.abs(v - want.state.std[i]) < 1e-5, `state std ${i}`));
  } finally {
    data.close();
  }
});

test.run();
