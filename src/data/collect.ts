// Scripted-expert demonstrations of one task, written as one LIBERO demo file. Each attempt starts from one of the
// task's init states (cycling through them), runs LIBERO's wait steps, then the expert with seeded gaussian noise on
// the 6 arm dims of its actions; only successful episodes are kept, recording stops at the first success (LIBERO's
// done). Every step records, before its action: the flat MuJoCo state, the robot obs keys and both cameras as raw
// OpenGL rows ('opengl', upside down, as robosuite's obs and LIBERO's files).
// Runs in whichever thread calls it (src/cli/demos.ts spreads tasks over worker threads through collect-worker.ts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { RiptideError } from '../errors.ts';
import { Rng } from '../rng.ts';
import { ROBOT_STATE, type VecEnv } from '../sim/vec-env.ts';
import { TaskExpert } from '../tasks/experts/index.ts';
import { TaskEnv, WAIT_STEPS } from '../tasks/task-env.ts';
import { openTask, taskInitStates, type Task } from '../tasks/task.ts';
import { ACTION_DIM, demoFileName, LiberoHdf5Writer, problemClassName, type LiberoDemo, type LiberoMeta } from './libero-hdf5.ts';

/** Parallel envs of one task's VecEnv (they share one thread: more only amortises per-call overhead). */
const MAX_ENVS = 4;
/** Control steps an episode may continue after the expert's plan has ended (objects settling into place). */
const SETTLE_AFTER_PLAN = 20;
const CAMERAS = ['agentview', 'robot0_eye_in_hand'] as const;

export interface CollectTaskJob {
  /** A task ref: 'libero_goal/0', a task name or a .bddl path. */
  task: string;
  perTask: number;
  /** Output folder. */
  out: string;
  seed: number;
  /** Std of the gaussian noise added to the 6 arm action dims (actions are then clipped to [-1, 1]). */
  noise: number;
  /** Camera image size (square). */
  image: number;
  /** Most episodes tried; default max(10, 4 * perTask). */
  maxAttempts?: number;
  /** gzip level of the image datasets (0: none, as LIBERO). */
  gzip?: number;
}

export interface CollectProgress {
  kept: number;
  attempts: number;
}

export interface CollectTaskResult {
  task: string;
  /** The written file; null when no attempt succeeded. */
  file: string | null;
  kept: number;
  attempts: number;
  /** Recorded steps of the kept demos. */
  steps: number;
  seconds: number;
}

export function attemptCap(job: Pick<CollectTaskJob, 'perTask' | 'maxAttempts'>): number {
  return job.maxAttempts ?? Math.max(10, 4 * job.perTask);
}

export function checkCollectJob(job: CollectTaskJob): void {
  const int = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!int(job.perTask, 1)) throw new RiptideError(`--per-task must be a whole number >= 1, got ${job.perTask}`);
  if (!int(job.image, 8) || job.image > 1024) throw new RiptideError(`--image must be a whole number of pixels in 8..1024, got ${job.image}`);
  if (!(job.noise >= 0 && Number.isFinite(job.noise))) throw new RiptideError(`--noise must be a number >= 0 (action units), got ${job.noise}`);
  if (!int(job.seed, 0)) throw new RiptideError(`--seed must be a whole number >= 0, got ${job.seed}`);
  if (job.gzip !== undefined && !(int(job.gzip, 0) && job.gzip <= 9)) throw new RiptideError(`--gzip must be a level in 0..9, got ${job.gzip}`);
  if (job.maxAttempts !== undefined && !int(job.maxAttempts, job.perTask)) {
    throw new RiptideError(`--max-attempts must be a whole number >= --per-task (${job.perTask}), got ${job.maxAttempts}`);
  }
}

/** Seed of attempt a's noise: depends only on (seed, task, attempt). */
export function attemptSeed(seed: number, task: string, attempt: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < task.length; i++) h = Math.imul(h ^ task.charCodeAt(i), 0x01000193);
  h ^= Math.imul(attempt + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** The task's name as LIBERO names its demo file (suite task name, or the BDDL file's base name). */
export function taskFileStem(task: Task): string {
  return task.entry?.name ?? path.basename(task.scene.problem.file).replace(/\.bddl$/, '');
}

/** The data group's attrs for a task, as LIBERO's create_dataset.py fills them. */
export function taskMeta(task: Task, image: number): LiberoMeta {
  const p = task.scene.problem;
  const envName = problemClassName(p.problem);
  const bddlFileName = path.resolve(p.file);
  return {
    envName,
    problemInfo: { problem_name: p.problem, domain_name: p.domain, language_instruction: p.language },
    imageConvention: 'opengl',
    bddlFileName,
    bddlFileContent: p.text,
    envArgs: {
      type: 1,
      env_name: envName,
      problem_name: p.problem,
      bddl_file: bddlFileName,
      env_kwargs: {
        robots: ['Panda'],
        controller_configs: { type: 'OSC_POSE' },
        bddl_file_name: bddlFileName,
        has_renderer: false,
        has_offscreen_renderer: true,
        ignore_done: true,
        use_camera_obs: true,
        camera_depths: false,
        camera_names: ['robot0_eye_in_hand', 'agentview'],
        reward_shaping: true,
        control_freq: 20,
        camera_heights: image,
        camera_widths: image,
        camera_segmentations: null,
      },
      riptide: { task: task.ref, instruction: task.language, wait_steps: WAIT_STEPS },
    },
    obsTiming: 'before_action',
  };
}

/** One episode's recording (grows by one step per control step); RECAP's rollout collection records with it too. */
export class EpisodeRecorder {
  readonly states: Float64Array[] = [];
  readonly robot: Float64Array[] = [];
  readonly actions: Float32Array[] = [];
  readonly frames: [Uint8Array, Uint8Array][] = [];

  get length(): number {
    return this.actions.length;
  }

  /** Records env k's observation before its next action: flat MuJoCo state, robot obs (k's row of `robot`, as
   *  vec.robotState wrote it) and both cameras as raw OpenGL rows (the file's 'opengl' convention). */
  observe(vec: VecEnv, k: number, robot: Float64Array, size: number): void {
    this.states.push(vec.getState(k));
    this.robot.push(robot.slice(k * ROBOT_STATE.size, (k + 1) * ROBOT_STATE.size));
    const [agent, wrist] = CAMERAS.map((c) => {
      const img = new Uint8Array(size * size * 3);
      vec.render(k, c, img);
      return img;
    });
    this.frames.push([agent, wrist]);
  }

  /** The recording as a LIBERO demo; a failed episode (success false) has no reward, only the last step's done. */
  toDemo(size: number, modelFile: string, extraAttrs: LiberoDemo['extraAttrs'], success = true): LiberoDemo {
    const T = this.length;
    const N = this.states[0].length;
    const frame = size * size * 3;
    const rows = (width: number, fill: (t: number, out: Float64Array) => void) => {
      const a = new Float64Array(T * width);
      for (let t = 0; t < T; t++) fill(t, a.subarray(t * width, (t + 1) * width));
      return a;
    };
    const R = ROBOT_STATE;
    const pick = (t: number, from: number, n: number) => this.robot[t].subarray(from, from + n);
    const images = (c: 0 | 1) => {
      const a = new Uint8Array(T * frame);
      for (let t = 0; t < T; t++) a.set(this.frames[t][c], t * frame);
      return a;
    };
    const last = (T: number) => {
      const a = new Uint8Array(T);
      a[T - 1] = 1;
      return a;
    };
    const states = rows(N, (t, o) => o.set(this.states[t]));
    return {
      data: {
        actions: rows(ACTION_DIM, (t, o) => o.set(this.actions[t])),
        states,
        robot_states: rows(9, (t, o) => {
          o.set(pick(t, R.gripperQpos, 2), 0);
          o.set(pick(t, R.eefPos, 3), 2);
          o.set(pick(t, R.eefQuat, 4), 5);
        }),
        rewards: success ? last(T) : new Uint8Array(T),
        dones: last(T),
        'obs/agentview_rgb': images(0),
        'obs/eye_in_hand_rgb': images(1),
        'obs/gripper_states': rows(2, (t, o) => o.set(pick(t, R.gripperQpos, 2))),
        'obs/joint_states': rows(7, (t, o) => o.set(pick(t, R.jointPos, 7))),
        'obs/ee_states': rows(6, (t, o) => {
          o.set(pick(t, R.eefPos, 3), 0);
          o.set(pick(t, R.eefAxisAngle, 3), 3);
        }),
        'obs/ee_pos': rows(3, (t, o) => o.set(pick(t, R.eefPos, 3))),
        'obs/ee_ori': rows(3, (t, o) => o.set(pick(t, R.eefAxisAngle, 3))),
      },
      height: size,
      width: size,
      modelFile,
      initState: states.slice(0, N),
      extraAttrs,
    };
  }
}

/** Collects up to job.perTask successful demos of one task and writes `<out>/<task name>_demo.hdf5`. */
export async function collectTaskDemos(job: CollectTaskJob, onProgress?: (p: CollectProgress) => void): Promise<CollectTaskResult> {
  checkCollectJob(job);
  const t0 = performance.now();
  const task = openTask(job.task);
  const size = job.image;
  const cap = attemptCap(job);
  const numEnvs = Math.min(MAX_ENVS, job.perTask);
  const env = TaskEnv.create(task.scene, { numEnvs, render: { width: size, height: size } });
  const file = path.join(job.out, demoFileName(taskFileStem(task)));
  // Started at the first success and fed one demo at a time: only the running episodes stay in memory.
  let writer: LiberoHdf5Writer | undefined;
  let attempts = 0;
  let steps = 0;
  try {
    // Demos start from the train split only, so evaluating on the test split measures held-out init states.
    const inits = taskInitStates(task, env, 'train');
    const vec = env.env;
    const robot = new Float64Array(numEnvs * ROBOT_STATE.size);
    const actions = new Float32Array(numEnvs * ACTION_DIM);
    const active = new Uint8Array(numEnvs);
    const kept = () => writer?.count ?? 0;
    while (kept() < job.perTask && attempts < cap) {
      const n = Math.min(numEnvs, job.perTask - kept(), cap - attempts);
      const ids = Array.from({ length: n }, (_, k) => attempts + k);
      const initIdx = ids.map((a) => a % inits.length);
      env.start(initIdx.map((i) => inits[i]));
      const expert = new TaskExpert(env);
      const rngs = ids.map((a) => new Rng(attemptSeed(job.seed, task.ref, a)));
      const recs = ids.map(() => new EpisodeRecorder());
      const planEnded = new Array<number>(n).fill(-1);
      const success = new Array<boolean>(n).fill(false);
      for (let k = 0; k < n; k++) expert.reset(k);
      active.fill(0);
      active.fill(1, 0, n);
      for (let t = 0; t < task.maxSteps; t++) {
        const live = Array.from({ length: n }, (_, k) => k).filter((k) => active[k]);
        if (live.length === 0) break;
        vec.robotState(robot);
        for (const k of live) recs[k].observe(vec, k, robot, size);
        const going = expert.act(live, actions);
        live.forEach((k, i) => {
          if (!going[i] && planEnded[k] < 0) planEnded[k] = t;
          const a = actions.subarray(k * ACTION_DIM, (k + 1) * ACTION_DIM);
          for (let j = 0; j < 6; j++) a[j] = Math.min(1, Math.max(-1, a[j] + job.noise * rngs[k].normal()));
          recs[k].actions.push(a.slice());
        });
        vec.step(actions, active);
        for (const k of live) {
          if (env.success(k)) {
            success[k] = true;
            active[k] = 0;
          } else if (planEnded[k] >= 0 && t - planEnded[k] >= SETTLE_AFTER_PLAN) {
            active[k] = 0;
          }
        }
      }
      for (let k = 0; k < n; k++) {
        if (!success[k]) continue;
        const fixtures = inits[initIdx[k]].fixtures;
        if (!writer) {
          mkdirSync(job.out, { recursive: true });
          writer = await LiberoHdf5Writer.create(file, taskMeta(task, size), { gzip: job.gzip ?? 0 });
        }
        writer.add(
          recs[k].toDemo(size, task.scene.mjcf, {
            riptide_init_index: initIdx[k],
            riptide_noise_seed: attemptSeed(job.seed, task.ref, ids[k]),
            riptide_noise_std: job.noise,
            ...(fixtures.length > 0 ? { riptide_fixture_poses: Float64Array.from(fixtures) } : {}),
          }),
        );
        steps += recs[k].length;
      }
      attempts += n;
      onProgress?.({ kept: kept(), attempts });
    }
    writer?.finish();
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    env.close();
  }
  const count = writer?.count ?? 0;
  return { task: task.ref, file: count > 0 ? file : null, kept: count, attempts, steps, seconds: (performance.now() - t0) / 1000 };
}
