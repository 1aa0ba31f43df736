// The CUDA backend's kernels and whole models, run on the CPU emulator (cpp/dev/cuda-check): every kernel against
// the reference loops, then a tiny PI0 and value model on the emulated device against the CPU path. This is what
// checks cpp/pi0/cuda on machines without a GPU (CI); test/model/cuda.test.ts checks the real device when there is
// one. About two minutes on 2 cores: the emulator runs each block's threads as OS threads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

test('the CUDA kernels and a tiny model on the emulator match the CPU path within their tolerances', () => {
  const r = spawnSync('bash', [path.join(root, 'cpp/dev/cuda-check/emulator.sh')], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout}\n${r.stderr}`;
  const failed = out.split('\n').filter((l) => l.includes('FAIL'));
  assert.equal(failed, [], out.slice(-4000));
  assert.is(r.status, 0, out.slice(-4000));
  assert.ok(out.includes('all within tolerance'));
  const checked = out.split('\n').filter((l) => /^\s+ok\s/.test(l)).length;
  assert.ok(checked >= 45, `only ${checked} figures checked:\n${out.slice(-4000)}`);
});

test.run();
