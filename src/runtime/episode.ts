// Episode jobs (what the supervisor asks for) and finished episodes (what comes back). A finished episode's arrays
// live in one SharedArrayBuffer, so handing a batch to the learner worker shares it instead of copying it.
import { ACTION_DIM, EP, frameStride, imageBytes, STATE_DIM, type EpisodeSpec, type RuntimeSettings } from './layouts.ts';
import type { SlotView } from './slot-ring.ts';

export interface EpisodeJob {
  /** Unique within a runtime; messages and records carry it. */
  episode: number;
  /** Index into RuntimeSettings.tasks. */
  task: number;
  /** Index into the task's stored init states. */
  init: number;
  /** Seeds the sampler noise of every chunk of this episode (the same seed gives the same episode). */
  seed: number;
}

export interface Episode extends EpisodeJob {
  success: boolean;
  /** Control steps executed (after LIBERO's wait steps), up to and including the first success. */
  length: number;
  /** Chunk boundaries observed: chunk c starts at step c * executeSteps. */
  chunks: number;
  executeSteps: number;
  /** Observations recorded: frame f is the observation at step f * frameStride (chunk boundaries included). */
  frames: number;
  frameStride: number;
  /** The env actor that ran it. */
  actor: number;
  /** maxSteps x 7: the actions executed; rows >= length are whatever the last chunk held past the end. */
  actions: Float32Array;
  /** maxSteps flags: 1 for the steps that were executed (t < length). */
  valid: Uint8Array;
  /** frames x 8: the policy state at each recorded step. */
  states: Float32Array;
  /** frames x (2 cameras x H x W x 3): both camera images at each recorded step, agentview first. */
  images: Uint8Array;
  image: { width: number; height: number };
}

/** Copies a record slot of `job` into an Episode backed by one fresh SharedArrayBuffer. */
export function episodeFromRecord(slot: SlotView<EpisodeSpec>, job: EpisodeJob, s: RuntimeSettings, maxSteps: number): Episode {
  const m = slot.meta;
  const frames = m[EP.frames];
  const ib = imageBytes(s);
  const sizes = [maxSteps * ACTION_DIM * 4, maxSteps, frames * STATE_DIM * 4, frames * ib].map((b) => Math.ceil(b / 8) * 8);
  const sab = new SharedArrayBuffer(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  const take = <T>(make: (off: number) => T, i: number): T => {
    const v = make(at);
    at += sizes[i];
    return v;
  };
  const actions = take((o) => new Float32Array(sab, o, maxSteps * ACTION_DIM), 0);
  const valid = take((o) => new Uint8Array(sab, o, maxSteps), 1);
  const states = take((o) => new Float32Array(sab, o, frames * STATE_DIM), 2);
  const images = take((o) => new Uint8Array(sab, o, frames * ib), 3);
  actions.set(slot.actions.subarray(0, actions.length));
  valid.fill(1, 0, m[EP.length]);
  states.set(slot.states.subarray(0, states.length));
  images.set(slot.images.subarray(0, images.length));
  return {
    ...job,
    success: m[EP.success] !== 0,
    length: m[EP.length],
    chunks: m[EP.chunks],
    executeSteps: s.executeSteps,
    frames,
    frameStride: frameStride(s),
    actor: m[EP.actor],
    actions,
    valid,
    states,
    images,
    image: { ...s.image },
  };
}
