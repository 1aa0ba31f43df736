// RECAP's rollout collection: the current policy runs on the tasks through the actor runtime (cached envs,
// train-split init states, seeded), then every episode, success or failure, is replayed from its init state and
// actions in a one-env TaskEnv (as report/video.ts replays: the same wait steps and step mode, so physics repeats
// exactly) into the demo collector's EpisodeRecorder, and written as `<task name>_demo.hdf5` in LIBERO's schema:
// reward 1 on the success step else 0, done on the last step, and the demo attr `success` (0/1).
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { policyHorizon } from '../../config/recap-config.ts';
import { EpisodeRecorder, taskFileStem, taskMeta } from '../../data/collect.ts';
import { SUCCESS_ATTR } from '../../data/dataset.ts';
import { ACTION_DIM, demoFileName, LiberoHdf5Writer, type ExtraAttr } from '../../data/libero-hdf5.ts';
import { RiptideError } from '../../errors.ts';
import { Rng } from '../../rng.ts';
import type { Episode } from '../../runtime/episode.ts';
import type { PolicySettings } from '../../runtime/layouts.ts';
import { Runtime } from '../../runtime/runtime.ts';
import { ROBOT_STATE } from '../../sim/vec-env.ts';
import { splitIndices } from '../../tasks/init-states.ts';
import { TaskEnv, type InitState } from '../../tasks/task-env.ts';
import { openTask, taskInitStates } from '../../tasks/task.ts';
import { mixSeed } from '../cfg-flow.ts';
import { initCount } from '../ript-trainer.ts';
import { demoImageSize, type RecapContext } from './context.ts';

/** What a rollout file needs of an episode. */
export type RolloutEpisode = Pick<Episode, 'init' | 'seed' | 'success' | 'length' | 'actions'>;

export interface CollectSummary {
  files: string[];
  episodes: number;
  /** Task ref -> success rate of its rollouts. */
  success: Record<string, number>;
  seconds: number;
}

/** Replays one episode in env 0 of `env`, recording each observation before its action; throws on divergence. */
function replay(env: TaskEnv, init: InitState, e: RolloutEpisode, size: number, where: string): EpisodeRecorder {
  const rec = new EpisodeRecorder();
  const vec = env.env;
  const robot = new Float64Array(ROBOT_STATE.size);
  const on = new Uint8Array([1]);
  env.start([init]);
  let success = false;
  for (let t = 0; t < e.length && !success; t++) {
    vec.robotState(robot);
    rec.observe(vec, 0, robot, size);
    const a = e.actions.subarray(t * ACTION_DIM, (t + 1) * ACTION_DIM);
    rec.actions.push(a.slice());
    vec.step(a, on);
    success = env.success(0);
  }
  if (success !== e.success || rec.length !== e.length) {
    const got = success ? `succeeded at step ${rec.length}` : `failed after ${rec.length} steps`;
    const want = e.success ? `succeeded at step ${e.length}` : `failed after ${e.length} steps`;
    throw new RiptideError(
      `${where}: the replay of the episode from init state ${e.init} (seed ${e.seed}) ${got} but the rollout ${want}; ` +
        'a replay must repeat the rollout exactly (same init states, wait steps and step mode), so nothing was written',
    );
  }
  return rec;
}

/**
 * Replays `episodes` of one task and writes them, successes and failures, to `<out>/<task name>_demo.hdf5`
 * (atomically: a divergent replay leaves no file). `attrs` go on every demo. Returns the file.
 */
export async function writeRolloutFile(
  ref: string,
  episodes: readonly RolloutEpisode[],
  o: { out: string; image: number; gzip?: number; attrs?: Record<string, ExtraAttr> },
  onEpisode?: (done: number) => void,
): Promise<string> {
  const task = openTask(ref);
  const file = path.join(o.out, demoFileName(taskFileStem(task)));
  const env = TaskEnv.create(task.scene, { numEnvs: 1, render: { width: o.image, height: o.image } });
  let writer: LiberoHdf5Writer | undefined;
  try {
    const inits = taskInitStates(task, env);
    mkdirSync(o.out, { recursive: true });
    writer = await LiberoHdf5Writer.create(file, taskMeta(task, o.image), { gzip: o.gzip ?? 0 });
    for (const [i, e] of episodes.entries()) {
      const init = inits[e.init];
      if (!init) throw new RiptideError(`${ref}: episode ${i} starts from init state ${e.init}, but the task has ${inits.length}`);
      const rec = replay(env, init, e, o.image, `${ref} episode ${i}`);
      const attrs: Record<string, ExtraAttr> = { [SUCCESS_ATTR]: e.success ? 1 : 0, riptide_init_index: e.init, riptide_seed: e.seed, ...o.attrs };
      if (init.fixtures.length > 0) attrs.riptide_fixture_poses = Float64Array.from(init.fixtures);
      writer.add(rec.toDemo(o.image, task.scene.mjcf, attrs, e.success));
      onEpisode?.(i + 1);
    }
    writer.finish();
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    env.close();
  }
  return file;
}

/**
 * Runs `policy` (the SFT checkpoint or a later round's, same model) for collect.episodes_per_task episodes per task
 * (train-split init states from a seeded offset per task and round) and writes one rollout file per task into `out`.
 */
export async function collectRollouts(ctx: RecapContext, o: { policy: Partial<PolicySettings>; out: string; round: number }): Promise<CollectSummary> {
  const c = ctx.config;
  const t0 = performance.now();
  const image = await demoImageSize(c.data.demos);
  const seed = mixSeed(c.seed, 0xc011, o.round);
  const jobs = c.tasks.flatMap((ref, task) => {
    const inits = splitIndices(initCount(openTask(ref)), 'train');
    const offset = new Rng(mixSeed(seed, task)).int(inits.length);
    return Array.from({ length: c.collect.episodes_per_task }, (_, i) => ({ task, init: inits[(offset + i) % inits.length], seed: mixSeed(seed, task, i) }));
  });
  const rt = await Runtime.start({
    tasks: c.tasks,
    numParallelEnvs: c.rollout.num_parallel_envs,
    envActors: c.rollout.env_actors,
    image: { width: image, height: image },
    executeSteps: Math.min(c.rollout.execute_steps ?? 50, policyHorizon(c)),
    maxEpisodeLength: c.rollout.max_episode_length ?? undefined,
    policy: { ...o.policy, cfgScale: c.collect.cfg_scale, threads: c.runtime.threads ?? undefined, device: c.runtime.device },
  });
  let episodes: Episode[];
  try {
    let done = 0;
    episodes = await rt.rollout(jobs, () => ctx.hooks.progress?.('rollouts', ++done, jobs.length));
  } finally {
    await rt.stop();
  }
  const files: string[] = [];
  const success: Record<string, number> = {};
  const policy = o.policy.checkpoint ?? `preset ${o.policy.preset}`;
  for (const [t, ref] of c.tasks.entries()) {
    const mine = episodes.filter((e) => e.task === t);
    const attrs = { riptide_policy: policy, riptide_cfg_scale: c.collect.cfg_scale };
    files.push(await writeRolloutFile(ref, mine, { out: o.out, image, gzip: c.collect.gzip, attrs }, (n) => ctx.hooks.progress?.(`replay ${ref}`, n, mine.length)));
    success[ref] = mine.filter((e) => e.success).length / mine.length;
  }
  const rate = episodes.filter((e) => e.success).length / episodes.length;
  const perTask = Object.entries(success).map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`);
  ctx.hooks.log(`collected ${episodes.length} rollouts: success ${(100 * rate).toFixed(1)}% (${perTask.join(', ')}) -> ${o.out}`);
  return { files, episodes: episodes.length, success, seconds: (performance.now() - t0) / 1000 };
}
