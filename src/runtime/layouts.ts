// The runtime's settings and the typed slot layouts of its three rings: observations (env -> rollout), action
// chunks (rollout -> env) and finished-episode records (rollout -> supervisor). Integer fields of a message share
// one Int32 `meta` array whose indices are named here.
import type { DeviceChoice } from '../model/device.ts';
import type { LayoutSpec } from './slot-ring.ts';

/** The policy state LIBERO feeds PI0: eef position (3), eef axis-angle (3), gripper finger qpos (2). */
export const STATE_DIM = 8;
export const ACTION_DIM = 7;
export const CAMERAS = ['agentview', 'robot0_eye_in_hand'] as const;

export interface PolicySettings {
  /** Model preset (tiny, small, pi0 or a JSON file) when no checkpoint is given. */
  preset: string;
  /** Weight-init seed of the preset model. */
  seed: number;
  /** A riptide checkpoint folder; overrides preset/seed. */
  checkpoint?: string;
  cfgScale: number;
  /** Flow-matching integration steps per chunk (PI0 uses 10). */
  flowSteps: number;
  threads?: number;
  /** Where the model runs (default cpu; src/model/device.ts). */
  device?: DeviceChoice;
}

export interface RuntimeSettings {
  /** Task refs (suite/id, task names, .bddl paths); a task's index here is its id in every message. */
  tasks: string[];
  /** task.num_parallel_envs: cached envs per task. */
  numParallelEnvs: number;
  /** Worker threads holding env actors; tasks are dealt to them round-robin. */
  envActors: number;
  /** Camera image size (both cameras); msaa: 4x multisampling, robosuite's default (about 2.5x the render cost). */
  image: { width: number; height: number; msaa?: boolean };
  /** 'reuse' (default): compile once, reset from init states. 'rebuild': LIBERO's hard reset every episode. */
  resetMode: 'reuse' | 'rebuild';
  /** 'chunk': render at chunk boundaries only. 'step': render both cameras after every control step (LIBERO). */
  render: 'chunk' | 'step';
  /** 'fast' (step1/control/step2) or 'rs14' (robosuite 1.4: an extra mj_forward every substep). */
  stepMode: 'fast' | 'rs14';
  /** Actions executed from each chunk (<= the model's action horizon). */
  executeSteps: number;
  /** Record the observation every frameStride steps (a divisor of executeSteps; default executeSteps, i.e. chunk
   *  boundaries only). Training windows that start between chunk boundaries need these frames. */
  frameStride?: number;
  /** task.max_episode_length: overrides each task's step budget when set. */
  maxEpisodeLength?: number;
  /** Double-buffer the envs of an actor in two halves (Sample Factory), so stepping overlaps inference. */
  pipeline: boolean;
  /** 'actors': worker threads. 'serial': every actor's logic in the calling thread (debugging, reference). */
  mode: 'actors' | 'serial';
  policy: PolicySettings;
  /** Most observations the rollout actor batches into one sampler call. */
  maxBatch: number;
  /** Restarts allowed per env actor before the run fails. */
  maxRestarts: number;
  /** Keep a copy of every chunk the rollout actor sends (tests, debugging). */
  trace?: boolean;
  /** Record timed spans of actor activity (riptide profile env --trace). */
  timeline?: boolean;
}

/** A timed span of actor activity; start is absolute (timeOrigin + now) ms, comparable across workers. */
export interface Span {
  name: string;
  start: number;
  dur: number;
}

/** Times fn and adds the elapsed ms to stats[key]; records a span when spans is given. */
export function timed<T>(stats: Record<string, number>, key: string, spans: Span[] | null, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    const dur = performance.now() - t0;
    stats[key] += dur;
    spans?.push({ name: key, start: performance.timeOrigin + t0, dur });
  }
}

export const DEFAULT_SETTINGS: Omit<RuntimeSettings, 'tasks'> = {
  numParallelEnvs: 2,
  envActors: 1,
  image: { width: 128, height: 128 },
  resetMode: 'reuse',
  render: 'chunk',
  stepMode: 'fast',
  executeSteps: 50,
  pipeline: false,
  mode: 'actors',
  policy: { preset: 'small', seed: 0, cfgScale: 1, flowSteps: 10 },
  maxBatch: 64,
  maxRestarts: 3,
};

/** Observation message meta fields. kind OBS: an observation to act on; END: the episode is over; FRAME: an
 *  observation inside a chunk, kept for the episode record only. */
export const OBS = { env: 0, episode: 1, chunk: 2, kind: 3, success: 4, length: 5, task: 6, seed: 7, size: 8 } as const;
export const KIND_OBS = 0;
export const KIND_END = 1;
export const KIND_FRAME = 2;
/** Action message meta fields. */
export const ACT = { env: 0, episode: 1, chunk: 2, size: 3 } as const;
/** Episode record meta fields. */
export const EP = { episode: 0, task: 1, seed: 2, success: 3, length: 4, chunks: 5, actor: 6, frames: 7, size: 8 } as const;

export function imageBytes(s: { image: { width: number; height: number } }): number {
  return CAMERAS.length * s.image.width * s.image.height * 3;
}

export function obsSpec(s: RuntimeSettings) {
  return { meta: ['i32', OBS.size], state: ['f32', STATE_DIM], images: ['u8', imageBytes(s)] } as const satisfies LayoutSpec;
}

export function actionSpec(s: RuntimeSettings) {
  return { meta: ['i32', ACT.size], actions: ['f32', s.executeSteps * ACTION_DIM] } as const satisfies LayoutSpec;
}

/** Chunk boundaries an episode of maxSteps steps can have. */
export function maxChunks(s: RuntimeSettings, maxSteps: number): number {
  return Math.ceil(maxSteps / s.executeSteps);
}

export function frameStride(s: RuntimeSettings): number {
  return s.frameStride ?? s.executeSteps;
}

/** Recorded observations an episode of maxSteps steps can have (at steps 0, stride, 2*stride, ...). */
export function maxFrames(s: RuntimeSettings, maxSteps: number): number {
  return Math.ceil(maxSteps / frameStride(s));
}

export function episodeSpec(s: RuntimeSettings, maxSteps: number) {
  const f = maxFrames(s, maxSteps);
  return {
    meta: ['i32', EP.size],
    actions: ['f32', maxSteps * ACTION_DIM],
    states: ['f32', f * STATE_DIM],
    images: ['u8', f * imageBytes(s)],
  } as const satisfies LayoutSpec;
}

export type ObsSpec = ReturnType<typeof obsSpec>;
export type ActionSpec = ReturnType<typeof actionSpec>;
export type EpisodeSpec = ReturnType<typeof episodeSpec>;
