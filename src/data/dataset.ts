// Training samples from LIBERO demo files: a full-step enumeration index over (file, demo, step), seeded per-epoch
// shuffles, batch assembly (both cameras as the policy sees them, the 8-dim state, a window of H actions with its
// pad mask) and openpi-format norm stats computed from the data.
//
// Windows (H = 50, PI0's action horizon), per demo of S usable steps:
//   'pad'    every step s starts a window; steps past the demo's end are padded (action_is_pad = 1): S samples.
//   'fit'    only windows that fit: S - H + 1 samples (0 when S < H).
//   'random' the legacy sampler: one window per demo per epoch at a random start (padded like 'pad').
// Usable steps: a file recording obs before each action (riptide, OpenVLA) pairs obs[s] with actions[s..]: S = T.
// LIBERO's create_dataset.py records obs[j] after action j, so obs[s] precedes actions[s+1..]: S = T - 1.
//
// Batch assembly runs on the caller's thread and is cheap: actions and states of every demo are read once at open
// (T x 15 floats each); a sample then costs two frame reads (one hyperslab per camera) and a 180-degree copy.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { computeNormStats, type NormStats } from '../model/norm-stats.ts';
import { Rng } from '../rng.ts';
import {
  ACTION_DIM,
  DemoFileError,
  LIBERO_CAMERAS,
  POLICY_STATE_DIM,
  languageFromFileName,
  readLiberoHdf5,
  type LazyDemo,
  type LiberoFile,
  type ObsTiming,
} from './libero-hdf5.ts';

export type WindowMode = 'pad' | 'fit' | 'random';
export const WINDOW_MODES: readonly WindowMode[] = ['pad', 'fit', 'random'];
/** PI0's action horizon: the window length. */
export const ACTION_HORIZON = 50;

/** The demo attr that marks a failed episode (0); RECAP's collector writes it on every rollout. */
export const SUCCESS_ATTR = 'success';

/** Samples one demo of `steps` usable steps gives per epoch in `mode`. */
export function windowCount(steps: number, mode: WindowMode, horizon = ACTION_HORIZON): number {
  if (steps <= 0) return 0;
  if (mode === 'pad') return steps;
  if (mode === 'fit') return Math.max(0, steps - horizon + 1);
  return 1;
}

/** Usable steps of a demo of T recorded steps (see the header comment). */
export function usableSteps(T: number, timing: ObsTiming): number {
  return Math.max(0, timing === 'after_action' ? T - 1 : T);
}

export interface DatasetOptions {
  mode?: WindowMode;
  horizon?: number;
  /** Seeds the per-epoch shuffles (and the random mode's starts). */
  seed?: number;
  /** false: the epoch in index order (file, demo, step). Default true. */
  shuffle?: boolean;
  /** Overrides every file's obs timing (files without riptide's attr are guessed; see libero-hdf5.ts). */
  obsTiming?: ObsTiming;
}

export interface DemoEntry {
  /** Index into DemoDataset.files. */
  file: number;
  demo: LazyDemo;
  /** Usable steps S. */
  steps: number;
  /** 1 when obs[s] precedes actions[s + 1] (LIBERO's after-action recording), else 0. */
  shift: number;
  /** (T, 7) */
  actions: Float64Array;
  /** (T, 8): eef pos, eef axis-angle, finger qpos. */
  states: Float64Array;
  prompt: string;
  /** The demo attr `success` (RECAP's rollouts are 0 or 1); a demo without it counts as a success (OpenTau's rule). */
  success: boolean;
}

/** B samples, raw (unnormalised): the trainer normalises with the norm stats and resizes the images. */
export interface DemoBatch {
  size: number; // B
  height: number; // H
  width: number; // W
  horizon: number; // window length
  images: Uint8Array; // (B, 2, H, W, 3): agentview then eye_in_hand, as the policy sees them
  state: Float32Array; // (B, 8)
  actions: Float32Array; // (B, horizon, 7); padded steps repeat the demo's last action (LeRobot's edge clamp)
  actionIsPad: Uint8Array; // (B, horizon): 1 = past the demo's end, excluded from the loss
  prompts: string[]; // (B)
  refs: Int32Array; // (B, 2): demo index, step
}

/** One 32-bit seed from (seed, epoch, stream), so each epoch and purpose gets its own sequence. */
function mixSeed(seed: number, epoch: number, stream: number): number {
  let h = (seed >>> 0) ^ Math.imul(epoch + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The .hdf5 files of a list of files and folders (a folder gives its *.hdf5, sorted). */
export function demoFiles(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of inputs) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new DemoFileError(`${p}: no such file or folder`);
    }
    if (!isDir) out.push(p);
    else {
      const found = readdirSync(p)
        .filter((n) => n.endsWith('.hdf5'))
        .sort()
        .map((n) => path.join(p, n));
      if (found.length === 0) throw new DemoFileError(`${p}: folder has no .hdf5 demo files`);
      out.push(...found);
    }
  }
  return out;
}

/** The prompt of a file's demos: the instruction eval scripts use (from '<task>_demo.hdf5'), else problem_info's. */
function promptOf(f: LiberoFile): string {
  if (/_demo\.hdf5$/.test(f.file)) return languageFromFileName(f.file);
  return f.meta.problemInfo?.language_instruction ?? languageFromFileName(f.file);
}

export class DemoDataset {
  readonly files: LiberoFile[];
  readonly demos: DemoEntry[];
  readonly mode: WindowMode;
  readonly horizon: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly height: number;
  readonly width: number;
  /** Samples per epoch. */
  readonly size: number;

  private constructor(files: LiberoFile[], opts: DatasetOptions) {
    this.files = files;
    this.mode = opts.mode ?? 'pad';
    this.horizon = opts.horizon ?? ACTION_HORIZON;
    this.seed = opts.seed ?? 0;
    this.shuffle = opts.shuffle ?? true;
    if (!WINDOW_MODES.includes(this.mode)) throw new DemoFileError(`window mode must be one of ${WINDOW_MODES.join(', ')}, got '${String(this.mode)}'`);
    if (!(Number.isInteger(this.horizon) && this.horizon >= 1)) throw new DemoFileError(`horizon must be a positive integer, got ${this.horizon}`);
    this.demos = [];
    files.forEach((f, fi) => {
      const shift = (opts.obsTiming ?? f.meta.obsTiming) === 'after_action' ? 1 : 0;
      const prompt = promptOf(f);
      for (const demo of f.demos) {
        const success = demo.attr(SUCCESS_ATTR)?.value !== 0;
        this.demos.push({ file: fi, demo, steps: Math.max(0, demo.length - shift), shift, actions: demo.actions(), states: demo.policyStates(), prompt, success });
      }
    });
    const first = this.demos[0]?.demo;
    if (!first) throw new DemoFileError('no demos to train on');
    this.height = first.height;
    this.width = first.width;
    for (const d of this.demos) {
      if (d.demo.height !== this.height || d.demo.width !== this.width) {
        throw new DemoFileError(
          `${d.demo.file}: data/${d.demo.key} has ${d.demo.height}x${d.demo.width} images but ${first.file} has ${this.height}x${this.width}; ` +
            'one dataset needs one image size (re-collect at one --image size)',
        );
      }
    }
    this.size = this.demos.reduce((n, d) => n + windowCount(d.steps, this.mode, this.horizon), 0);
  }

  /** Opens demo files (or folders of them); close() releases them. */
  static async open(inputs: readonly string[], opts: DatasetOptions = {}): Promise<DemoDataset> {
    const files: LiberoFile[] = [];
    try {
      for (const f of demoFiles(inputs)) files.push(await readLiberoHdf5(f));
      return new DemoDataset(files, opts);
    } catch (e) {
      for (const f of files) f.close();
      throw e;
    }
  }

  /** Epoch e's samples as (demo, step) pairs: every window of the mode once, in a seeded order ((seed, e) -> order). */
  epoch(e: number): Int32Array {
    const out = new Int32Array(2 * this.size);
    let n = 0;
    const starts = new Rng(mixSeed(this.seed, e, 1));
    this.demos.forEach((d, i) => {
      if (this.mode === 'random') {
        if (d.steps > 0) {
          out[n++] = i;
          out[n++] = starts.int(d.steps);
        }
        return;
      }
      const count = windowCount(d.steps, this.mode, this.horizon);
      for (let s = 0; s < count; s++) {
        out[n++] = i;
        out[n++] = s;
      }
    });
    if (this.shuffle) {
      const rng = new Rng(mixSeed(this.seed, e, 0));
      for (let i = this.size - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const [a, b] = [out[2 * i], out[2 * i + 1]];
        out[2 * i] = out[2 * j];
        out[2 * i + 1] = out[2 * j + 1];
        out[2 * j] = a;
        out[2 * j + 1] = b;
      }
    }
    return out;
  }

  /** Epoch e in batches of (demo, step) pairs (views into one epoch array); dropLast skips a short last batch. */
  *batches(e: number, batchSize: number, opts: { dropLast?: boolean } = {}): Generator<Int32Array> {
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new DemoFileError(`batch size must be a positive integer, got ${batchSize}`);
    const all = this.epoch(e);
    for (let i = 0; i < this.size; i += batchSize) {
      const n = Math.min(batchSize, this.size - i);
      if (n < batchSize && opts.dropLast) return;
      yield all.subarray(2 * i, 2 * (i + n));
    }
  }

  /** Batches of epoch 0, 1, ... without end; a short last batch is dropped when the data holds a full batch. */
  *stream(batchSize: number): Generator<{ refs: Int32Array; epoch: number }, never> {
    if (this.size === 0) {
      const files = this.files.map((f) => f.file).join(', ');
      throw new DemoFileError(`${files}: no samples in mode '${this.mode}' to draw batches from (demos shorter than a window of ${this.horizon}? try mode 'pad')`);
    }
    const dropLast = this.size >= batchSize;
    for (let epoch = 0; ; epoch++) for (const refs of this.batches(epoch, batchSize, { dropLast })) yield { refs, epoch };
  }

  allocBatch(B: number): DemoBatch {
    const { height: H, width: W, horizon } = this;
    return {
      size: B,
      height: H,
      width: W,
      horizon,
      images: new Uint8Array(B * 2 * H * W * 3),
      state: new Float32Array(B * POLICY_STATE_DIM),
      actions: new Float32Array(B * horizon * ACTION_DIM),
      actionIsPad: new Uint8Array(B * horizon),
      prompts: new Array<string>(B).fill(''),
      refs: new Int32Array(B * 2),
    };
  }

  /** Fills sample b of `batch` with (demo, step). */
  readSample(demo: number, step: number, batch: DemoBatch, b: number): void {
    const d = this.demos[demo];
    if (!d) throw new RangeError(`demo ${demo} outside 0..${this.demos.length - 1}`);
    if (!(Number.isInteger(step) && step >= 0 && step < d.steps)) throw new RangeError(`${d.demo.file}: data/${d.demo.key}: step ${step} outside 0..${d.steps - 1}`);
    const H = this.horizon;
    const frame = this.height * this.width * 3;
    LIBERO_CAMERAS.forEach((cam, c) => d.demo.image(cam, step, batch.images, (b * 2 + c) * frame));
    for (let j = 0; j < POLICY_STATE_DIM; j++) batch.state[b * POLICY_STATE_DIM + j] = d.states[step * POLICY_STATE_DIM + j];
    const first = d.shift + step; // the action taken right after obs[step]
    const T = d.actions.length / ACTION_DIM;
    for (let h = 0; h < H; h++) {
      const t = first + h;
      const pad = t >= T;
      const src = (pad ? T - 1 : t) * ACTION_DIM;
      const dst = (b * H + h) * ACTION_DIM;
      for (let j = 0; j < ACTION_DIM; j++) batch.actions[dst + j] = d.actions[src + j];
      batch.actionIsPad[b * H + h] = pad ? 1 : 0;
    }
    batch.prompts[b] = d.prompt;
    batch.refs[2 * b] = demo;
    batch.refs[2 * b + 1] = step;
  }

  /** Assembles the samples of `refs` ((demo, step) pairs) into `out` (or a new batch of that size). */
  readBatch(refs: Int32Array, out?: DemoBatch): DemoBatch {
    const B = refs.length / 2;
    const batch = out && out.size === B ? out : this.allocBatch(B);
    for (let b = 0; b < B; b++) this.readSample(refs[2 * b], refs[2 * b + 1], batch, b);
    return batch;
  }

  /**
   * Norm stats in openpi's norm_stats.json layout (write them with writeNormStats): state over every usable step,
   * actions over every recorded action that follows one. Each frame counts once; openpi's compute_norm_stats feeds
   * whole action chunks instead, which weights interior actions up to H times and repeats the padded tails.
   */
  normStats(): NormStats {
    const steps = this.demos.reduce((n, d) => n + d.steps, 0);
    if (steps === 0) throw new DemoFileError('the dataset has no usable steps to compute norm stats from');
    const state = new Float64Array(steps * POLICY_STATE_DIM);
    const actions = new Float64Array(steps * ACTION_DIM);
    let n = 0;
    for (const d of this.demos) {
      state.set(d.states.subarray(0, d.steps * POLICY_STATE_DIM), n * POLICY_STATE_DIM);
      actions.set(d.actions.subarray(d.shift * ACTION_DIM, (d.shift + d.steps) * ACTION_DIM), n * ACTION_DIM);
      n += d.steps;
    }
    return computeNormStats({ state, actions, stateDim: POLICY_STATE_DIM, actionDim: ACTION_DIM });
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}
