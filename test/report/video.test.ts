// Rollout videos: a replay reproduces a training episode's frames exactly, and VideoEncoder (piscina worker +
// ffmpeg) writes an mp4 of length + 1 frames (the observation after the wait steps, then one per step), with
// failures collected instead of thrown. The ffmpeg tests skip when ffmpeg is not installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { VideoEncoder, ffmpegAvailable, replayEpisode, type VideoJob } from '../../src/report/video.ts';
import { Rng } from '../../src/rng.ts';
import { EnvBank } from '../../src/runtime/env-bank.ts';
import { ACTION_DIM, DEFAULT_SETTINGS } from '../../src/runtime/layouts.ts';

const TASK = 'libero_goal/0';
const STEPS = 30;
const S = 64;

/** Small seeded random arm motions, gripper open: the arm moves visibly but stays near its start. */
function randomActions(seed: number, steps: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(steps * ACTION_DIM);
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < 6; j++) a[t * ACTION_DIM + j] = (rng.uniform() * 2 - 1) * 0.3;
    a[t * ACTION_DIM + 6] = -1;
  }
  return a;
}

function job(dir: string, over: Partial<VideoJob> = {}): VideoJob {
  return { task: TASK, init: 0, actions: randomActions(7, STEPS), length: STEPS, out: path.join(dir, 'videos', 'ep0.mp4'), width: S, height: S, ...over };
}

test('a replay reproduces the frames of the same episode run in a training env bank (env 1 of 2)', async () => {
  const actions = randomActions(7, STEPS);
  const frames: Uint8Array[] = [];
  await replayEpisode({ ...job('/unused'), actions }, (f) => void frames.push(f.slice()));
  assert.is(frames.length, STEPS + 1);
  assert.is(frames[0].length, S * 2 * S * 3);

  // As an env actor runs it: two envs in one VecEnv, the episode in env 1, another episode beside it in env 0.
  const bank = new EnvBank(TASK, { ...DEFAULT_SETTINGS, tasks: [TASK], numParallelEnvs: 2, image: { width: S, height: S } });
  try {
    const other = randomActions(8, STEPS);
    bank.reset(0, 3);
    bank.reset(1, 0);
    bank.wait([0, 1]);
    const both = new Float32Array(2 * ACTION_DIM);
    const img = new Uint8Array(2 * S * S * 3);
    const sideBySide = (t: number) => {
      const f = frames[t];
      const row = S * 3;
      for (let y = 0; y < S; y++) {
        assert.ok(Buffer.compare(f.subarray(y * 2 * row, y * 2 * row + row), img.subarray(y * row, (y + 1) * row)) === 0, `step ${t} agentview row ${y}`);
        assert.ok(Buffer.compare(f.subarray(y * 2 * row + row, (y + 1) * 2 * row), img.subarray((S + y) * row, (S + y + 1) * row)) === 0, `step ${t} wrist row ${y}`);
      }
    };
    bank.render(1, img);
    sideBySide(0);
    for (let t = 0; t < STEPS; t++) {
      both.set(other.subarray(t * ACTION_DIM, (t + 1) * ACTION_DIM), 0);
      both.set(actions.subarray(t * ACTION_DIM, (t + 1) * ACTION_DIM), ACTION_DIM);
      bank.step(both, new Uint8Array([1, 1]));
    }
    bank.render(1, img);
    sideBySide(STEPS);
    assert.not.equal(frames[0], frames[STEPS], 'the arm moved');
  } finally {
    bank.close();
  }
});

if (!ffmpegAvailable()) {
  console.log('skipped: ffmpeg not installed');
} else {
  test(`VideoEncoder writes an mp4 of ${STEPS}+1 frames at ${2 * S}x${S} (agentview | wrist)`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'riptide-video-'));
    try {
      const enc = new VideoEncoder();
      const j = job(dir, { caption: `${TASK} init 0` });
      enc.submit(j);
      j.actions.fill(Number.NaN); // the caller's buffer is free again after submit: the encoder copied it
      const summary = await enc.close();
      assert.equal(summary, { written: [j.out], failed: [] });
      const mp4 = readFileSync(j.out);
      assert.is(mp4.toString('ascii', 4, 8), 'ftyp');
      const probe = spawnSync(
        'ffprobe',
        ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames,width,height', '-of', 'json', j.out],
        { encoding: 'utf8' },
      );
      assert.is(probe.status, 0, probe.stderr);
      const stream = (JSON.parse(probe.stdout) as { streams: { width: number; height: number; nb_read_frames: string }[] }).streams[0];
      assert.equal({ width: stream.width, height: stream.height, frames: Number(stream.nb_read_frames) }, { width: 2 * S, height: S, frames: STEPS + 1 });
      assert.equal(readdirSync(path.dirname(j.out)), ['ep0.mp4'], 'no temp file left behind');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('VideoEncoder collects failures instead of throwing, and writes nothing for them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'riptide-video-'));
    try {
      const enc = new VideoEncoder({ mode: 'serial' });
      const badInit = job(dir, { init: 999, length: 2, out: path.join(dir, 'bad-init.mp4') });
      const short = job(dir, { length: 40, out: path.join(dir, 'short.mp4') }); // 30 steps of actions for 40
      enc.submit(badInit);
      enc.submit(short);
      const { written, failed } = await enc.close();
      assert.equal(written, []);
      assert.equal(failed.map((f) => f.out), [badInit.out, short.out]);
      assert.match(failed[0].error, /init state 999 does not exist/);
      assert.match(failed[1].error, /actions has 210 values; 40 steps need 280/);
      assert.not.ok(existsSync(badInit.out) || existsSync(short.out));
      assert.equal(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('without ffmpeg on PATH, encoding fails with an error that says how to install it', () => {
  const code = [
    "import { encodeEpisodeVideo } from './src/report/video.ts';",
    `encodeEpisodeVideo({ task: 'libero_goal/0', init: 0, actions: new Float32Array(7), length: 1, out: ${JSON.stringify(path.join(tmpdir(), 'riptide-never-written.mp4'))}, width: 8, height: 8 })`,
    '  .catch((e) => { console.log(e.name + ": " + e.message); });',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, PATH: '/nonexistent' },
  });
  assert.match(r.stdout, /RiptideError: ffmpeg was not found on PATH.*apt-get install ffmpeg.*npm run setup/);
});

test.run();
