// `riptide train` end to end with the tiny model: two tasks, two steps through the actor runtime produce
// metrics.json, rollout_stats.json and checkpoints; N steps straight equal N/2 + resume + N/2 bit for bit (serial
// mode, the same seed); a fresh run refuses a folder that already holds checkpoints.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { listCheckpoints, RiptTrainer } from '../../src/algo/ript-trainer.ts';
import { loadTrainConfig } from '../../src/config/train-config.ts';
import { SafetensorsReader } from '../../src/model/safetensors.ts';

const BASE = [
  'task.tasks=[libero_spatial/0,libero_goal/0]',
  'task.num_parallel_envs=2',
  'task.max_episode_length=24',
  'task.image_size=48',
  'policy.preset=tiny',
  'algo.execute_steps=8',
  'algo.window_stride=8',
  'algo.rloo_batch_size=2',
  'algo.demo_batch_size=2',
  // A fresh tiny model fails everywhere: dynamic sampling would drop every group.
  'algo.enable_dynamic_sampling=false',
  'algo.micro_batch_size=4',
  'algo.lr=1e-3',
  'eval.init_states=1',
  'runtime.env_actors=2',
  'runtime.max_batch=8',
  'runtime.threads=1',
];

const quiet = { log: () => {} };

async function train(overrides: string[], resume = false): Promise<RiptTrainer> {
  const t = new RiptTrainer(loadTrainConfig(undefined, [...BASE, ...overrides]), quiet);
  t.prepare(resume);
  await t.start();
  try {
    await t.run();
  } finally {
    await t.stop();
  }
  return t;
}

function weights(dir: string): Float32Array {
  const r = SafetensorsReader.open(path.join(dir, 'model.safetensors'));
  try {
    const parts = [...r.entries.keys()].sort().map((k) => {
      const e = r.entries.get(k)!;
      const out = new Float32Array(e.shape.reduce((a, b) => a * b, 1));
      r.readInto(k, out);
      return out;
    });
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) all.set(p, (at += p.length) - p.length);
    return all;
  } finally {
    r.close();
  }
}

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'riptide-train-'));

test('2 tasks x 2 steps through the actors: metrics.json, rollout_stats.json and a checkpoint', async () => {
  const out = tmp();
  const t = await train([`output_dir=${out}`, 'training.n_steps=2', 'training.log_freq=2', 'training.save_freq=2']);
  const m = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8'));
  assert.equal(m.eval.map((e: { step: number }) => e.step), [0, 2], 'evaluated before training and at the end');
  assert.equal(Object.keys(m.eval[0].per_task), ['libero_spatial/0', 'libero_goal/0']);
  assert.is(m.eval[0].episodes, 2);
  assert.equal(m.train.map((r: { step: number }) => r.step), [1, 2]);
  for (const r of m.train) {
    assert.is(r.groups_kept, 2);
    assert.ok(r.fm_loss > 0 && Number.isFinite(r.fm_loss), `fm_loss ${r.fm_loss}`);
    assert.ok(r.windows >= 4 * 3, `windows ${r.windows}: 4 episodes of 24 steps, one window per 8 steps`);
  }
  const stats = JSON.parse(readFileSync(t.statsPath, 'utf8'));
  const contexts = Object.values(stats.contexts) as { outcomes: number[] }[];
  assert.is(contexts.reduce((n, c) => n + c.outcomes.length, 0), 2 * 2 * 2, '2 steps x 2 groups x 2 rollouts recorded');
  const ck = listCheckpoints(out);
  assert.equal(ck.map((c) => c.step), [2]);
  for (const f of ['model.safetensors', 'optimizer.safetensors', 'config.json', 'trainer_state.json']) assert.ok(existsSync(path.join(ck[0].dir, f)), f);
  const state = JSON.parse(readFileSync(path.join(ck[0].dir, 'trainer_state.json'), 'utf8'));
  assert.is(state.step, 2);
  assert.throws(() => new RiptTrainer(loadTrainConfig(undefined, [...BASE, `output_dir=${out}`]), quiet).prepare(false), /already holds checkpoints.*--resume/);
});

test('resume: 2 steps straight == 1 step + resume + 1 step, bit for bit (serial mode, same seed)', async () => {
  const common = ['runtime.mode=serial', 'training.n_steps=2', 'training.log_freq=100', 'training.save_freq=1', 'algo.ema_decay=0.5'];
  const straight = tmp();
  await train([...common, `output_dir=${straight}`]);
  const split = tmp();
  await train([...common, `output_dir=${split}`, 'training.n_steps=1']);
  assert.equal(listCheckpoints(split).map((c) => c.step), [1]);
  await train([...common, `output_dir=${split}`], true);
  const a = listCheckpoints(straight).at(-1)!.dir;
  const b = listCheckpoints(split).at(-1)!.dir;
  const wa = weights(a);
  const wb = weights(b);
  assert.is(wa.length, wb.length);
  assert.ok(wa.every((v, i) => Object.is(v, wb[i])), 'final weights differ');
  for (const f of ['ema.safetensors', 'optimizer.safetensors']) assert.ok(readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f))), `${f} differs`);
  assert.equal(JSON.parse(readFileSync(path.join(a, 'trainer_state.json'), 'utf8')), JSON.parse(readFileSync(path.join(b, 'trainer_state.json'), 'utf8')));
  const ma = JSON.parse(readFileSync(path.join(straight, 'metrics.json'), 'utf8'));
  const mb = JSON.parse(readFileSync(path.join(split, 'metrics.json'), 'utf8'));
  const strip = (rs: Record<string, number>[]) => rs.map(({ wall_s: _w, steps_per_s: _s, ...r }) => r);
  assert.equal(strip(mb.train), strip(ma.train), 'the same steps, the same bookkeeping');
});

test.run();
