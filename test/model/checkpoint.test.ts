// Checkpoint folders: full round trip, atomic replacement, and errors naming the missing file or mismatched field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { CHECKPOINT_FILES, loadCheckpoint, saveCheckpoint, type CheckpointContents } from '../../src/model/checkpoint.ts';
import { loadPi0Config } from '../../src/model/config.ts';
import { computeNormStats } from '../../src/model/norm-stats.ts';
import { fakeParams, fakeSpec, slabSize } from './fixtures/fake-spec.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-ck-'));
const config = loadPi0Config('tiny');
const spec = fakeSpec();
const N = slabSize(spec);

function contents(seed: number, step: number): CheckpointContents {
  return {
    config,
    spec,
    params: fakeParams(N, seed),
    optimizer: { m: fakeParams(N, seed + 1), v: fakeParams(N, seed + 2).map(Math.abs), step },
    normStats: computeNormStats({ state: [[1, 2], [3, 5]], actions: [[0.5], [-0.5], [1]] }),
    trainerState: { step, sampler: { cursor: 17, order: [3, 1, 2] }, rng: 'abc123', note: null },
    ema: fakeParams(N, seed + 3),
  };
}

function target() {
  return { config, spec, params: new Float32Array(N), adamM: new Float32Array(N), adamV: new Float32Array(N) };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return assert.unreachable('expected an error') as never;
}

const leftovers = () => readdirSync(tmp).filter((f) => f.includes('.tmp-') || f.includes('.old-'));

test('save/load round trip: weights, adam m and v, step, norm stats, trainer state, EMA', () => {
  const dir = path.join(tmp, 'ck-a');
  const c = contents(1, 42);
  saveCheckpoint(dir, c);
  for (const f of Object.values(CHECKPOINT_FILES)) assert.ok(existsSync(path.join(dir, f)), f);
  const t = target();
  const ck = loadCheckpoint(dir, t, { optimizer: 'required' });
  assert.equal(Array.from(t.params), Array.from(c.params));
  assert.equal(Array.from(t.adamM), Array.from(c.optimizer!.m));
  assert.equal(Array.from(t.adamV), Array.from(c.optimizer!.v));
  assert.is(ck.step, 42);
  assert.equal(Array.from(ck.ema!), Array.from(c.ema!));
  assert.equal(ck.trainerState, c.trainerState);
  assert.equal(ck.normStats, c.normStats);
  assert.equal(ck.config, config);
  assert.equal(ck.warnings, []);
  // Without a target: the small files only.
  const meta = loadCheckpoint(dir);
  assert.is(meta.step, 42);
  assert.equal(meta.trainerState, c.trainerState);
});

test('a second save replaces the first and leaves no temp or old folders', () => {
  const dir = path.join(tmp, 'ck-b');
  saveCheckpoint(dir, contents(1, 1));
  const c2 = contents(5, 2);
  saveCheckpoint(dir, c2);
  const t = target();
  assert.is(loadCheckpoint(dir, t).step, 2);
  assert.equal(Array.from(t.params), Array.from(c2.params));
  assert.equal(leftovers(), []);
});

test('a save that fails mid-write leaves the previous checkpoint intact', () => {
  const dir = path.join(tmp, 'ck-c');
  const good = contents(1, 10);
  saveCheckpoint(dir, good);
  // 1) Adam m throws while its bytes are written (model.safetensors is already complete in the temp folder)
  const failing = contents(9, 11);
  Object.defineProperty(failing.optimizer!.m, 'buffer', {
    get() {
      throw new Error('simulated I/O failure');
    },
  });
  assert.ok(errorOf(() => saveCheckpoint(dir, failing)).includes('simulated I/O failure'));
  // 2) the trainer state cannot be serialised (written last, after both safetensors files)
  const msg = errorOf(() => saveCheckpoint(dir, { ...contents(9, 12), trainerState: { rng: 10n } }));
  assert.ok(msg.includes('trainerState'), msg);
  const t = target();
  const ck = loadCheckpoint(dir, t);
  assert.is(ck.step, 10);
  assert.equal(Array.from(t.params), Array.from(good.params));
  assert.equal(ck.trainerState, good.trainerState);
  assert.equal(leftovers(), []);
});

test('missing files and config mismatches name the file and field', () => {
  const dir = path.join(tmp, 'ck-d');
  saveCheckpoint(dir, contents(1, 3));
  const other = { ...config, llm: { ...config.llm, width: config.llm.width * 2 } };
  const msg = errorOf(() => loadCheckpoint(dir, { ...target(), config: other }));
  for (const s of ['config.json', 'llm.width', String(config.llm.width), String(other.llm.width)]) assert.ok(msg.includes(s), `${s} not in: ${msg}`);
  // A renamed copy of the same preset is the same model.
  loadCheckpoint(dir, { ...target(), config: { ...config, name: 'tiny-copy' } });

  rmSync(path.join(dir, CHECKPOINT_FILES.optimizer));
  const opt = errorOf(() => loadCheckpoint(dir, target(), { optimizer: 'required' }));
  assert.ok(opt.includes(path.join(dir, 'optimizer.safetensors')), opt);
  const ck = loadCheckpoint(dir, target());
  assert.is(ck.step, null);
  assert.ok(ck.warnings.some((w) => w.includes('optimizer.safetensors')));

  rmSync(path.join(dir, CHECKPOINT_FILES.model));
  const m = errorOf(() => loadCheckpoint(dir, target()));
  assert.ok(m.includes(path.join(dir, 'model.safetensors')) && m.includes('missing'), m);
  rmSync(path.join(dir, CHECKPOINT_FILES.config));
  assert.ok(errorOf(() => loadCheckpoint(dir)).includes(path.join(dir, 'config.json')));
  assert.ok(errorOf(() => loadCheckpoint(path.join(tmp, 'nope'))).includes('not found'));
});

test.run();
