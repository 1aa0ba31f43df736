// `bench model` either explains that the addon lacks the model, or (once it has it) writes a report whose keys
// carry their units.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { benchModel } from '../../src/cli/bench-model.ts';
import { hasNativePi0 } from '../../src/model/pi0.ts';

if (!hasNativePi0()) {
  test('without the native model, bench model says how to build it', async () => {
    try {
      await benchModel({ preset: 'tiny' });
      assert.unreachable('should fail');
    } catch (e) {
      assert.ok((e as Error).message.includes('npm run build:native'), (e as Error).message);
    }
  });
} else {
  test('bench model writes the figures as JSON (tiny preset, one repetition)', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'riptide-bench-')), 'bench.json');
    const log = console.log;
    console.log = () => {};
    try {
      await benchModel({ preset: 'tiny', json: file, batches: [2], sampleBatches: [1], steps: 1 });
    } finally {
      console.log = log;
    }
    const r = JSON.parse(readFileSync(file, 'utf8'));
    for (const k of ['train_ms_per_step_b2', 'train_samples_per_s_b2', 'train_gflops', 'sgemm_gflops', 'train_sgemm_ratio', 'sample_latency_ms_b1', 'params']) {
      assert.ok(typeof r[k] === 'number' && r[k] > 0, `${k} = ${r[k]}`);
    }
    assert.is(r.preset, 'tiny');
    assert.ok(r.machine.cores >= 1 && typeof r.machine.cpu_model === 'string');
    assert.type(r.git_commit, 'string');
  });
}

test.run();
