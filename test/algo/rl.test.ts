// RLOO values, advantage clipping, window slicing and padding masks, the init-state sampler, and the rollout stats.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InitStateSampler } from '../../src/algo/init-sampler.ts';
import { advantageWeights, isUniform, rlooAdvantages } from '../../src/algo/rloo.ts';
import { initStateHash, RolloutStatsTracker } from '../../src/algo/rollout-stats.ts';
import { padMask, sliceWindows } from '../../src/algo/windows.ts';
import { openTask } from '../../src/tasks/task.ts';

const close = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-12);

test('RLOO: each advantage is its reward minus the mean of the other rewards of its group', () => {
  // Group 1: [1, 0, 0, 1] -> 1 - 1/3, 0 - 2/3, 0 - 2/3, 1 - 1/3. Group 2: [1, 1, 1, 0] -> 1-2/3 x3, 0 - 1.
  const adv = rlooAdvantages([1, 0, 0, 1, 1, 1, 1, 0], 4);
  assert.ok(close(adv, [2 / 3, -2 / 3, -2 / 3, 2 / 3, 1 / 3, 1 / 3, 1 / 3, -1]), adv.join(' '));
  assert.equal(rlooAdvantages([1, 1, 1], 3), [0, 0, 0], 'a uniform group has no signal');
  assert.ok(isUniform([0, 0, 0]) && isUniform([1, 1]) && !isUniform([1, 0]));
  assert.throws(() => rlooAdvantages([1, 0, 1], 2), /groups of 2/);
  assert.throws(() => rlooAdvantages([1], 1), /rloo_batch_size/);
});

test('advantage weights: clipped to [0, adv_max], optionally normalised first', () => {
  assert.equal(advantageWeights([-1, 0.5, 7], { normalize: false, max: 5 }), [0, 0.5, 5]);
  const n = advantageWeights([-1, 1], { normalize: true, max: 5 });
  assert.ok(n[0] === 0 && Math.abs(n[1] - 1) < 1e-6, n.join(' '));
  assert.equal(advantageWeights([3, 3], { normalize: true, max: 5 }), [0, 0], 'zero spread: nothing above the mean');
});

test('windows: stride 50 pads the tail; skip drops it; stride 10 starts every 10 steps', () => {
  const pad = sliceWindows(120, { horizon: 50, stride: 50, tail: 'pad' });
  assert.equal(pad, [{ start: 0, valid: 50 }, { start: 50, valid: 50 }, { start: 100, valid: 20 }]);
  assert.equal(Array.from(padMask(pad[2], 50)), [...Array(20).fill(0), ...Array(30).fill(1)]);
  assert.equal(Array.from(padMask(pad[0], 50)), Array(50).fill(0));
  assert.equal(sliceWindows(120, { horizon: 50, stride: 50, tail: 'skip' }).map((w) => w.start), [0, 50]);
  const s10 = sliceWindows(120, { horizon: 50, stride: 10, tail: 'skip' });
  assert.equal(s10.map((w) => w.start), [0, 10, 20, 30, 40, 50, 60, 70]);
  assert.is(sliceWindows(120, { horizon: 50, stride: 10, tail: 'pad' }).length, 12);
  assert.equal(sliceWindows(30, { horizon: 50, stride: 50, tail: 'skip' }), [], 'an episode shorter than a window has none when skipping');
  assert.throws(() => sliceWindows(10, { horizon: 50, stride: 0, tail: 'pad' }), /window_stride/);
});

test('sampler: every train context once per epoch, seeded order, and a restored state continues the sequence', () => {
  const inits = [[0, 1, 2], [5, 6]];
  const a = new InitStateSampler(inits, 7);
  const epoch = Array.from({ length: 5 }, () => a.next());
  assert.equal(epoch.map((c) => `${c.task}:${c.init}`).sort(), ['0:0', '0:1', '0:2', '1:5', '1:6']);
  const b = new InitStateSampler(inits, 7);
  assert.equal(Array.from({ length: 5 }, () => b.next()), epoch, 'same seed, same order');
  const third = Array.from({ length: 3 }, () => a.next());
  const saved = { ...a.state() };
  const rest = Array.from({ length: 6 }, () => a.next());
  const c = new InitStateSampler(inits, 7);
  c.restore(saved);
  assert.equal(Array.from({ length: 6 }, () => c.next()), rest, 'resumed mid-epoch');
  assert.ok(third.length === 3);
  const other = new InitStateSampler(inits, 8);
  assert.not.equal(Array.from({ length: 5 }, () => other.next()), epoch, 'another seed, another order');
});

test('rollout stats: skip after rollout_skip_threshold straight successes, persisted atomically, reloaded', () => {
  const s = new RolloutStatsTracker(3);
  s.record('h1', 'libero_goal/0', 4, [1, 0]);
  assert.not.ok(s.shouldSkip('h1'));
  s.record('h1', 'libero_goal/0', 4, [1, 1]);
  assert.not.ok(s.shouldSkip('h1'), 'the last three (0, 1, 1) include a failure');
  s.record('h1', 'libero_goal/0', 4, [1]);
  assert.ok(s.shouldSkip('h1'), 'last three all successes');
  assert.not.ok(s.shouldSkip('unseen'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'riptide-stats-'));
  const file = path.join(dir, 'sub', 'rollout_stats.json');
  s.save(file);
  const t = new RolloutStatsTracker(3);
  assert.ok(t.load(file));
  assert.equal(t.stats.get('h1'), { task: 'libero_goal/0', init: 4, outcomes: [1, 0, 1, 1, 1], skips: 1 });
  assert.ok(t.shouldSkip('h1'));
  writeFileSync(file, '{"format": "something else"}');
  assert.throws(() => t.load(file), (e: Error) => e.message.includes(file) && /not a riptide rollout stats file/.test(e.message));
  writeFileSync(file, '{oops');
  assert.throws(() => t.load(file), /not valid JSON/);
  assert.not.ok(new RolloutStatsTracker(3).load(path.join(dir, 'missing.json')));
  assert.ok(readFileSync(file, 'utf8').length > 0);
});

test('init-state hash: SHA-256 of the stored row, distinct per init state, stable', () => {
  const task = openTask('libero_goal/0');
  const h0 = initStateHash(task.initFile, 0);
  assert.match(h0, /^[0-9a-f]{64}$/);
  assert.is(initStateHash(task.initFile, 0), h0);
  assert.is.not(initStateHash(task.initFile, 1), h0);
  assert.throws(() => initStateHash(task.initFile, 999), /does not exist/);
});

test.run();
