// `riptide recap collect`: rollouts of the (tiny, failing) policy and a replayed expert episode (a success) are
// written in LIBERO's schema with per-step rewards and dones and a success attr per demo, and read back by
// DemoDataset; a replay that does not reproduce its episode's outcome fails loudly and writes nothing.
import { readdirSync } from 'node:fs';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { collectRollouts, writeRolloutFile } from '../../src/algo/recap/collect.ts';
import { startPolicy } from '../../src/algo/recap/loop.ts';
import { DemoDataset } from '../../src/data/dataset.ts';
import { readLiberoHdf5, type LazyDemo } from '../../src/data/libero-hdf5.ts';
import { demoEpisode, expertDemo, IMAGE, mixedRollouts, TASK, tempDir, tinyContext } from './recap-fixtures.ts';

const dir = tempDir('collect');
const demo = await expertDemo(dir);

const ones = (a: ArrayLike<number>) => Array.from(a).flatMap((v, i) => (v ? [i] : []));

function checkSchema(d: LazyDemo, success: boolean): void {
  const T = d.length;
  assert.equal(ones(d.read('rewards') as Uint8Array), success ? [T - 1] : [], `${d.key} rewards`);
  assert.equal(ones(d.read('dones') as Uint8Array), [T - 1], `${d.key} dones`);
  assert.is(d.attr('success')?.value, success ? 1 : 0, `${d.key} success attr`);
  assert.is(d.height, IMAGE);
}

test('collect: the tiny policy rollouts are written as failures: no reward, done on the last step, success 0', async () => {
  const ctx = tinyContext(dir, demo, null);
  const out = path.join(dir, 'rollouts');
  const r = await collectRollouts(ctx, { policy: startPolicy(ctx.config), out, round: 1 });
  assert.is(r.episodes, 2);
  assert.equal(r.success, { [TASK]: 0 });
  assert.equal(r.files.map((f) => path.relative(out, f)), ['open_the_middle_drawer_of_the_cabinet_demo.hdf5']);
  const f = await readLiberoHdf5(r.files[0]);
  try {
    assert.is(f.demos.length, 2);
    for (const d of f.demos) {
      assert.is(d.length, 12, 'rollout.max_episode_length');
      checkSchema(d, false);
      assert.is(d.attr('riptide_policy')?.value, 'preset tiny');
    }
  } finally {
    f.close();
  }
});

test('collect: a replayed success and failure in one file; DemoDataset reads the flags (no attr = success)', async () => {
  const file = await mixedRollouts(dir, demo);
  const f = await readLiberoHdf5(file);
  const original = await readLiberoHdf5(demo);
  try {
    assert.equal(f.demos.map((d) => d.length), [original.demos[0].length, 20]);
    checkSchema(f.demos[0], true);
    checkSchema(f.demos[1], false);
    // The replay is the expert's episode: the same MuJoCo states and images, step for step.
    assert.equal(f.demos[0].read('states'), original.demos[0].read('states'));
    assert.equal(f.demos[0].read('obs/agentview_rgb'), original.demos[0].read('obs/agentview_rgb'));
  } finally {
    f.close();
    original.close();
  }
  const data = await DemoDataset.open([demo, file], { horizon: 8 });
  try {
    assert.equal(data.demos.map((d) => d.success), [true, true, false]);
    assert.equal(data.demos.map((d) => d.steps), [data.demos[0].steps, data.demos[0].steps, 20]);
  } finally {
    data.close();
  }
});

test('collect: a replay that does not reproduce the episode outcome throws and writes no file', async () => {
  const cut = { ...(await demoEpisode(demo, 20)), success: true };
  const out = path.join(dir, 'bad');
  try {
    await writeRolloutFile(TASK, [cut], { out, image: IMAGE });
    assert.unreachable('a divergent replay must throw');
  } catch (e) {
    assert.match((e as Error).message, /episode 0: the replay .* failed after 20 steps but the rollout succeeded at step 20.*nothing was written/);
  }
  assert.equal(readdirSync(out), []);
});

test.run();
