// Norm stats: openpi's formulas on a hand example, z-score round trip with 32-dim padding, file validation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  computeFeatureStats,
  computeNormStats,
  normalizeInto,
  readNormStats,
  unnormalizeInto,
  writeNormStats,
} from '../../src/model/norm-stats.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-ns-'));
const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol;

test('hand example: mean, std = sqrt(E[x^2]-E[x]^2), q01/q99 from the 5000-bin histogram', () => {
  // Column 0: 0..4 -> mean 2, E[x^2] = 6, std = sqrt(2). Column 1 constant 7 -> std 0.
  const s = computeFeatureStats([[0, 7], [1, 7], [2, 7], [3, 7], [4, 7]]);
  assert.ok(close(s.mean[0], 2) && close(s.mean[1], 7));
  assert.ok(close(s.std[0], Math.SQRT2) && close(s.std[1], 0));
  // q01: target 0.05 is reached by the first bin (holding 0) -> its left edge, min - 1e-10.
  // q99: target 4.95 is reached only by the last bin (holding 4) -> its left edge, min + 4999 * width.
  const lo = -1e-10;
  const width = (4 + 2e-10) / 5000;
  assert.ok(close(s.q01![0], lo, 1e-12), String(s.q01![0]));
  assert.ok(close(s.q99![0], lo + 4999 * width, 1e-9), String(s.q99![0]));
  assert.ok(close(s.q01![1], 7, 1e-9) && close(s.q99![1], 7, 1e-9));
  // The flat form gives the same numbers.
  assert.equal(computeFeatureStats(new Float32Array([0, 7, 1, 7, 2, 7, 3, 7, 4, 7]), 2), s);
});

test('quantiles on 1..100 land on the 1st and 99th values', () => {
  const rows = Array.from({ length: 100 }, (_, i) => [i + 1]);
  const s = computeFeatureStats(rows);
  assert.ok(Math.abs(s.q01![0] - 1) < 0.02, String(s.q01![0]));
  assert.ok(Math.abs(s.q99![0] - 99) < 0.02, String(s.q99![0]));
});

test('normalise then unnormalise is the identity; padded dims are zero', () => {
  const stats = computeFeatureStats([[1, -2, 10], [3, 0, 10], [5, 4, 10]]);
  const raw = new Float32Array([2, 1, 10, -1, 3, 11]);
  const norm = new Float32Array(2 * 32).fill(99);
  normalizeInto(raw, 2, stats, norm);
  assert.ok(close(norm[0], (2 - 3) / (stats.std[0] + 1e-6), 1e-6));
  assert.ok(close(norm[2], 0, 1e-6)); // std 0 column: (x - mean) / 1e-6 = 0 for x = mean
  for (let r = 0; r < 2; r++) for (let i = 3; i < 32; i++) assert.is(norm[r * 32 + i], 0);
  const back = new Float32Array(6);
  unnormalizeInto(norm, 2, stats, back);
  for (let i = 0; i < 6; i++) assert.ok(close(back[i], raw[i], 1e-4), `${i}: ${back[i]} vs ${raw[i]}`);
});

test('norm_stats.json round trip in the openpi format; bad files name the file and key', () => {
  const stats = computeNormStats({ state: [[1, 2], [2, 4]], actions: [[0], [1], [3]] });
  const p = path.join(tmp, 'norm_stats.json');
  writeNormStats(p, stats);
  assert.equal(readNormStats(p), stats);

  const bad = (name: string, value: unknown, ...needles: string[]) => {
    const f = path.join(tmp, name);
    writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value));
    try {
      readNormStats(f);
    } catch (e) {
      const msg = (e as Error).message;
      for (const n of [f, ...needles]) assert.ok(msg.includes(n), `${n} not in: ${msg}`);
      return;
    }
    assert.unreachable(`${name} should fail`);
  };
  const entry = { mean: [0, 1], std: [1, 1], q01: [0, 0], q99: [1, 1] };
  bad('no-std.json', { norm_stats: { state: { mean: [0] }, actions: entry } }, 'norm_stats.state.std', 'missing');
  bad('short.json', { norm_stats: { state: { ...entry, std: [1] }, actions: entry } }, 'norm_stats.state.std', 'has 1 values');
  bad('no-actions.json', { norm_stats: { state: entry } }, 'norm_stats.actions');
  bad('neg.json', { norm_stats: { state: entry, actions: { ...entry, std: [1, -1] } } }, 'norm_stats.actions.std[1]', '>= 0');
  bad('syntax.json', '{"norm_stats": ', 'not valid JSON');
});

test.run();
