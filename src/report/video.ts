// Rollout videos made off the hot path. Training renders only at chunk boundaries; a video replays the episode's
// actions in a fresh one-env EnvBank (physics is deterministic and the bank starts an episode exactly as the env
// actor does: reset, LIBERO's wait steps), renders both cameras after every step and pipes raw RGB frames into
// ffmpeg. VideoEncoder runs these jobs on a piscina worker, so a training loop only posts the actions.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Piscina } from 'piscina';

import { RiptideError } from '../errors.ts';
import { tempSibling } from '../fs-atomic.ts';
import { EnvBank } from '../runtime/env-bank.ts';
import { ACTION_DIM, DEFAULT_SETTINGS, type RuntimeSettings } from '../runtime/layouts.ts';
import { RgbCanvas, textWidth } from './plot.ts';

/** LIBERO's control rate: one video frame per control step plays the episode in real time. */
export const DEFAULT_FPS = 20;

/** One evaluation episode to replay and encode. */
export interface VideoJob {
  /** Task ref, e.g. 'libero_goal/0'. */
  task: string;
  /** Init-state index the episode started from. */
  init: number;
  /** length x 7 actions as executed (longer arrays are fine; the first length steps are replayed). */
  actions: Float32Array;
  length: number;
  /** The .mp4 to write (its folder is created). */
  out: string;
  /** Size of each camera image; the video is (2 * width) x height, agentview left, wrist camera right. */
  width: number;
  height: number;
  fps?: number;
  /** Drawn in the top-left corner and stored as the video's title. */
  caption?: string;
  /** The training run's step mode; the replay diverges from the episode if it differs. */
  stepMode?: RuntimeSettings['stepMode'];
  msaa?: boolean;
}

let ffmpegFound: boolean | undefined;
let x264Found: boolean | undefined;

export function ffmpegAvailable(): boolean {
  ffmpegFound ??= spawnSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' }).status === 0;
  return ffmpegFound;
}

/** Debian's ffmpeg has libx264; minimal builds may not, and fall back to MPEG-4 part 2 (plays everywhere too). */
function hasLibx264(): boolean {
  x264Found ??= /\blibx264\b/.test(spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' }).stdout ?? '');
  return x264Found;
}

function requireFfmpeg(): void {
  if (!ffmpegAvailable()) {
    throw new RiptideError(
      'ffmpeg was not found on PATH; rollout videos need it. Install it with `apt-get install ffmpeg` (or `npm run setup`), ' +
        'or turn video recording off.',
    );
  }
}

function checkJob(job: VideoJob): void {
  const bad = (field: string, why: string) => new RiptideError(`video job for ${job.out}: ${field} ${why}`);
  if (!Number.isInteger(job.length) || job.length < 0) throw bad('length', `must be a whole number >= 0, got ${job.length}`);
  if (job.actions.length < job.length * ACTION_DIM) {
    throw bad('actions', `has ${job.actions.length} values; ${job.length} steps need ${job.length * ACTION_DIM} (length x ${ACTION_DIM})`);
  }
  for (const k of ['width', 'height'] as const) {
    if (!Number.isInteger(job[k]) || job[k] < 8) throw bad(k, `must be a whole number of pixels >= 8, got ${job[k]}`);
  }
  if (job.fps !== undefined && !(job.fps > 0)) throw bad('fps', `must be > 0, got ${job.fps}`);
}

/**
 * Replays the episode and calls onFrame with each side-by-side frame ((2 * width) x height x 3, top row first): the
 * observation after the wait steps, then one after every step, length + 1 frames in all. The frame buffer is reused.
 */
export async function replayEpisode(job: VideoJob, onFrame: (frame: Uint8Array, t: number) => void | Promise<void>): Promise<void> {
  checkJob(job);
  const { width: W, height: H } = job;
  const bank = new EnvBank(job.task, {
    ...DEFAULT_SETTINGS,
    tasks: [job.task],
    numParallelEnvs: 1,
    image: { width: W, height: H, msaa: job.msaa },
    stepMode: job.stepMode ?? 'fast',
    resetMode: 'reuse',
  });
  try {
    const cams = new Uint8Array(2 * W * H * 3); // (2 cameras, H, W, 3)
    const frame = new Uint8Array(H * 2 * W * 3); // (H, 2W, 3)
    const caption = job.caption ? new RgbCanvas(2 * W, H, { pixels: frame }) : null;
    const scale = H >= 256 ? 2 : 1;
    const emit = async (t: number) => {
      bank.render(0, cams);
      const row = W * 3;
      for (let y = 0; y < H; y++) {
        frame.set(cams.subarray(y * row, (y + 1) * row), y * 2 * row);
        frame.set(cams.subarray((H + y) * row, (H + y + 1) * row), y * 2 * row + row);
      }
      if (caption && job.caption) {
        caption.fillRect(0, 0, textWidth(job.caption, scale) + 4 * scale, 11 * scale, '#000000');
        caption.text(2 * scale, 2 * scale, job.caption, '#ffffff', scale);
      }
      await onFrame(frame, t);
    };
    bank.reset(0, job.init);
    bank.wait([0]);
    await emit(0);
    const on = new Uint8Array([1]);
    for (let t = 0; t < job.length; t++) {
      bank.step(job.actions.subarray(t * ACTION_DIM, (t + 1) * ACTION_DIM), on);
      await emit(t + 1);
    }
  } finally {
    bank.close();
  }
}

/** Replays job's episode into job.out (H.264 mp4, written to a temp name and renamed); resolves to job.out. */
export async function encodeEpisodeVideo(job: VideoJob): Promise<string> {
  requireFfmpeg();
  checkJob(job);
  const width = 2 * job.width;
  const height = job.height;
  mkdirSync(path.dirname(path.resolve(job.out)), { recursive: true });
  const tmp = tempSibling(job.out);
  const codec = hasLibx264() ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23'] : ['-c:v', 'mpeg4', '-q:v', '3'];
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(job.fps ?? DEFAULT_FPS), '-i', '-'],
    // yuv420p needs even sizes; the width is even already (two cameras).
    ...(height % 2 ? ['-vf', 'pad=iw:ih+1'] : []),
    ...codec,
    ...['-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-threads', '1'],
    ...(job.caption ? ['-metadata', `title=${job.caption}`] : []),
    ...['-f', 'mp4', tmp],
  ];
  const ff = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  ff.stderr.setEncoding('utf8');
  ff.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  ff.stdin.on('error', () => {}); // EPIPE when ffmpeg exits early: its exit status and stderr say why
  const exited = new Promise<number | null>((resolve) => {
    ff.once('error', (e) => {
      stderr += `\n${e.message}`;
      resolve(null);
    });
    ff.once('close', (code) => resolve(code));
  });
  let replayError: unknown = null;
  try {
    await replayEpisode(job, async (frame) => {
      if (ff.stdin.destroyed || ff.exitCode !== null) throw new FfmpegStopped();
      // A copy: the stream may still hold this chunk when replayEpisode overwrites its frame buffer.
      // once() rejects on a stream error (EPIPE): caught, so a lost race cannot become an unhandled rejection.
      if (!ff.stdin.write(frame.slice())) await Promise.race([once(ff.stdin, 'drain').catch(() => {}), exited]);
    });
    ff.stdin.end();
  } catch (e) {
    replayError = e;
    ff.stdin.destroy();
    if (!(e instanceof FfmpegStopped)) ff.kill('SIGKILL');
  }
  const code = await exited;
  if (replayError === null && code === 0) {
    renameSync(tmp, job.out);
    return job.out;
  }
  rmSync(tmp, { force: true });
  if (replayError !== null && !(replayError instanceof FfmpegStopped)) throw replayError;
  const tail = stderr.trim().split('\n').slice(-8).join('\n') || '(no output)';
  throw new RiptideError(`ffmpeg failed (exit ${code}) writing ${job.out}: ${tail}`);
}

class FfmpegStopped extends Error {}

// ---------------------------------------------------------------- off-thread encoder

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'video-worker.ts');

export interface VideoEncoderOptions {
  /** Worker threads encoding at once (default 1: videos are a side job; each uses ffmpeg with one thread too). */
  threads?: number;
  /** 'serial': encode in the calling thread, one job after another (debugging); submit still never throws a job's failure. */
  mode?: 'worker' | 'serial';
}

export interface VideoSummary {
  written: string[];
  failed: { out: string; error: string }[];
}

/**
 * Encodes rollout videos on a piscina worker. submit() copies the actions (the caller's buffer, often a ring slot,
 * is free again at once) and returns; failures are collected for close() instead of thrown into a training loop.
 */
export class VideoEncoder {
  readonly #pool: Piscina | null;
  readonly #pending = new Set<Promise<void>>();
  readonly #written: { seq: number; out: string }[] = [];
  readonly #failed: { seq: number; out: string; error: string }[] = [];
  /** Serial mode: the tail of the one-at-a-time chain of jobs. */
  #serial: Promise<unknown> = Promise.resolve();
  #submitted = 0;
  #closed = false;

  constructor(opts: VideoEncoderOptions = {}) {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new RiptideError(`VideoEncoder: threads must be a whole number >= 1, got ${threads}`);
    // Node 20 workers do not inherit the tsx loader the main thread registered; loading it with --import in the
    // worker makes the .ts worker file importable, as actors/boot.mjs does for the actor workers.
    this.#pool =
      opts.mode === 'serial'
        ? null
        : new Piscina({
            filename: WORKER,
            minThreads: 0,
            maxThreads: threads,
            idleTimeout: 10_000,
            atomics: 'disabled',
            execArgv: ['--import', import.meta.resolve('tsx')],
          });
  }

  /** Videos submitted and not finished yet. */
  get pending(): number {
    return this.#pending.size;
  }

  submit(job: VideoJob): void {
    if (this.#closed) throw new Error('VideoEncoder.submit after close()');
    const seq = this.#submitted++;
    let run: Promise<string>;
    try {
      checkJob(job);
      const actions = job.actions.slice(0, job.length * ACTION_DIM);
      const copy: VideoJob = { ...job, actions };
      if (this.#pool) {
        run = this.#pool.run(copy, { transferList: [actions.buffer] });
      } else {
        run = this.#serial.then(() => encodeEpisodeVideo(copy));
        this.#serial = run.catch(() => undefined);
      }
    } catch (e) {
      run = Promise.reject(e);
    }
    const done = run.then(
      (out) => void this.#written.push({ seq, out }),
      (e: unknown) => void this.#failed.push({ seq, out: job.out, error: e instanceof Error ? e.message : String(e) }),
    );
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
  }

  /** Waits for every submitted video, stops the worker, and says what was written and what failed (in submit order). */
  async close(): Promise<VideoSummary> {
    this.#closed = true;
    while (this.#pending.size) await Promise.all([...this.#pending]);
    await this.#pool?.destroy();
    const bySeq = (a: { seq: number }, b: { seq: number }) => a.seq - b.seq;
    return {
      written: this.#written.sort(bySeq).map((w) => w.out),
      failed: this.#failed.sort(bySeq).map(({ out, error }) => ({ out, error })),
    };
  }
}
