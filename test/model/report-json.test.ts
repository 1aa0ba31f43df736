// Bench report helpers: machine info, git commit fallback, aligned table, atomic JSON.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { formatTable, gitCommit, machineInfo, writeJsonAtomic } from '../../src/cli/report-json.ts';

test('machine info and commit are always filled', () => {
  const m = machineInfo();
  assert.ok(m.cores >= 1);
  assert.ok(m.cpu_model.length > 0);
  assert.ok(/^([0-9a-f]{40}|unknown)$/.test(gitCommit()));
  assert.is(gitCommit(os.tmpdir()), 'unknown');
});

test('table aligns columns and formats numbers', () => {
  const t = formatTable([
    { figure: 'train step', batch: 8, ms: 1234.5678 },
    { figure: 'sample', batch: 16, ms: 0.012345 },
  ]).split('\n');
  assert.equal(t, ['figure      batch      ms', '----------  -----  ------', 'train step      8  1234.6', 'sample         16  0.0123']);
});

test('writeJsonAtomic creates folders and leaves no temp file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'riptide-rj-'));
  const f = path.join(dir, 'a', 'b.json');
  writeJsonAtomic(f, { x: 1 });
  assert.equal(JSON.parse(readFileSync(f, 'utf8')), { x: 1 });
  assert.equal(readdirSync(path.dirname(f)), ['b.json']);
});

test.run();
