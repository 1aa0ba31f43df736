// The actor runtime end to end: 2 tasks x 2 envs x the tiny model through env, rollout and learner actors (worker
// threads). Episode records hold exactly the chunks the rollout actor sent, and replaying those actions directly in
// an env (no actors) reproduces every recorded observation bit for bit. The serial mode is deterministic, and a
// learner update reaches the rollout actor as a new weights version.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { EnvBank } from '../../src/runtime/env-bank.ts';
import type { Episode } from '../../src/runtime/episode.ts';
import { ACTION_DIM, imageBytes, STATE_DIM } from '../../src/runtime/layouts.ts';
import { resolveSettings, Runtime, RuntimeError, type RuntimeOptions } from '../../src/runtime/runtime.ts';

const OPTS: RuntimeOptions = {
  tasks: ['libero_spatial/0', 'libero_object/0'],
  numParallelEnvs: 2,
  executeSteps: 8,
  maxEpisodeLength: 24,
  image: { width: 48, height: 48 },
  policy: { preset: 'tiny', seed: 3 },
  trace: true,
};
// 3 episodes per task on 2 envs per task: the third waits in its actor's queue for a free env.
const JOBS = [0, 1, 2].flatMap((i) => [
  { task: 0, init: i, seed: 100 + i },
  { task: 1, init: 2 * i, seed: 200 + i },
]);

/** Steps a fresh env through the recorded actions and compares every recorded observation (frame). */
function replay(e: Episode, opts: RuntimeOptions): void {
  const settings = resolveSettings(opts);
  const bank = new EnvBank(opts.tasks[e.task], { ...settings, numParallelEnvs: 1 });
  try {
    bank.reset(0, e.init);
    bank.wait([0]);
    const state = new Float32Array(STATE_DIM);
    const images = new Uint8Array(imageBytes(settings));
    const one = new Uint8Array([1]);
    let success = false;
    assert.is(e.frames, Math.ceil(e.length / e.frameStride), `episode ${e.episode}: frames`);
    for (let t = 0; t < e.length; t++) {
      if (t % e.frameStride === 0) {
        const f = t / e.frameStride;
        bank.state(0, state);
        bank.render(0, images);
        assert.equal(Array.from(state), Array.from(e.states.subarray(f * STATE_DIM, (f + 1) * STATE_DIM)), `episode ${e.episode} frame ${f}: state`);
        assert.ok(images.every((v, i) => v === e.images[f * images.length + i]), `episode ${e.episode} frame ${f}: images differ`);
      }
      bank.step(e.actions.slice(t * ACTION_DIM, (t + 1) * ACTION_DIM), one);
      success = success || bank.success(0);
    }
    assert.is(success, e.success, `episode ${e.episode}: success`);
  } finally {
    bank.close();
  }
}

test('actors: episodes hold the chunks the rollout actor sent, and replay to the same observations', async () => {
  const rt = await Runtime.start(OPTS);
  try {
    const episodes = await rt.rollout(JOBS);
    assert.is(episodes.length, JOBS.length);
    episodes.forEach((e, i) => {
      assert.is(e.task, JOBS[i].task);
      assert.is(e.init, JOBS[i].init);
      assert.ok(e.length >= 1 && e.length <= 24, `length ${e.length}`);
      assert.is(e.valid.reduce((a, b) => a + b, 0), e.length);
      assert.is(e.chunks, Math.ceil(e.length / 8));
    });
    const sent = await rt.sentChunks();
    for (const e of episodes) {
      const mine = sent.filter((s) => s.episode === e.episode).sort((a, b) => a.chunk - b.chunk);
      assert.is(mine.length, e.chunks, `episode ${e.episode}: chunks sent`);
      for (const s of mine) {
        const rows = Math.min(8, e.length - s.chunk * 8);
        assert.equal(Array.from(e.actions.subarray(s.chunk * 56, s.chunk * 56 + rows * 7)), Array.from(s.actions.subarray(0, rows * 7)));
      }
      assert.ok(mine.some((s) => s.actions.some((a) => a !== 0)), 'the policy produced non-zero actions');
    }
    for (const e of episodes) replay(e, OPTS);
    const stats = await rt.stats();
    assert.is(stats.env[0].episodes, JOBS.length);
    assert.is(stats.env[0].steps, episodes.reduce((a, e) => a + e.length, 0));
  } finally {
    await rt.stop();
  }
});

test('frames every 2 steps (windows between chunk boundaries) replay to the same observations', async () => {
  const opts = { ...OPTS, tasks: ['libero_spatial/0'], frameStride: 2 };
  const rt = await Runtime.start(opts);
  try {
    const episodes = await rt.rollout([{ task: 0, init: 1, seed: 9 }]);
    assert.is(episodes[0].frameStride, 2);
    replay(episodes[0], opts);
  } finally {
    await rt.stop();
  }
  assert.throws(() => resolveSettings({ ...opts, frameStride: 3 }), /frame_stride \(3\) must divide algo.execute_steps \(8\)/);
});

test('serial mode: the same seeds give bit-identical episodes', async () => {
  const run = async () => {
    const rt = await Runtime.start({ ...OPTS, mode: 'serial' });
    try {
      return await rt.rollout(JOBS.slice(0, 2));
    } finally {
      await rt.stop();
    }
  };
  const [a, b] = [await run(), await run()];
  a.forEach((e, i) => {
    assert.equal(Array.from(e.actions), Array.from(b[i].actions));
    assert.ok(e.images.every((v, j) => v === b[i].images[j]));
  });
});

test('a learner update is published and the rollout actor samples with the new weights version', async () => {
  const rt = await Runtime.start({ ...OPTS, tasks: ['libero_spatial/0'] }, { lr: 1e-3, microBatch: 8 });
  try {
    const first = await rt.rollout([{ task: 0, init: 0, seed: 1 }]);
    assert.is((await rt.stats()).rollout.weightsVersion, 1, 'the learner published its initial weights');
    const u = await rt.update(first);
    assert.is(u.version, 2);
    assert.is(u.windows, first[0].chunks);
    assert.ok(Number.isFinite(u.loss) && u.loss > 0);
    const again = await rt.rollout([{ task: 0, init: 0, seed: 1 }]);
    assert.is((await rt.stats()).rollout.weightsVersion, 2);
    assert.not.equal(Array.from(again[0].actions.subarray(0, 56)), Array.from(first[0].actions.subarray(0, 56)), 'new weights, new actions');
  } finally {
    await rt.stop();
  }
});

test('bad settings and jobs are refused with the field named', async () => {
  try {
    await Runtime.start({ ...OPTS, numParallelEnvs: 0 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, RuntimeError);
    assert.match((e as Error).message, /task.num_parallel_envs must be a positive integer/);
  }
  const rt = await Runtime.start({ ...OPTS, mode: 'serial', executeSteps: 9 }).catch((e: Error) => e);
  assert.instance(rt, Error);
  assert.match((rt as Error).message, /executeSteps 9 is longer than the policy's action horizon 8/);
});

test.run();
