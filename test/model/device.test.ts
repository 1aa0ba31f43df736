// Device selection (src/model/device.ts): what the build says about CUDA, `device: auto` falling back to the CPU
// with one line saying why, `device: cuda` failing with the reason and the fix, and the config key that picks it.
// These run everywhere; the GPU itself is exercised by test/model/cuda.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { ConfigError } from '../../src/config/load.ts';
import { loadTrainConfig } from '../../src/config/train-config.ts';
import { RiptideError } from '../../src/errors.ts';
import { cudaInfo, resolveDevice } from '../../src/model/device.ts';
import { Pi0Policy } from '../../src/model/pi0.ts';

const root = path.resolve(import.meta.dirname, '../..');
const info = cudaInfo();

test('the CUDA backend is compiled in exactly when CMake found nvcc', () => {
  const cache = path.join(root, 'build/CMakeCache.txt');
  if (!existsSync(cache)) return; // built by node-gyp: CPU only by design
  const foundNvcc = /^CMAKE_CUDA_COMPILER:[A-Z]+=\S*nvcc$/m.test(readFileSync(cache, 'utf8'));
  assert.is(info.built, foundNvcc);
});

test('cpu needs no device and logs nothing', () => {
  const lines: string[] = [];
  assert.is(resolveDevice('cpu', 'runtime.device', (l) => lines.push(l)), 'cpu');
  assert.equal(lines, []);
});

test('an unknown device names the setting and the choices', () => {
  assert.throws(() => resolveDevice('gpu' as 'cpu', '--device'), (e: Error) => e instanceof RiptideError && /--device: 'gpu' is not a device.*cpu, cuda, auto/.test(e.message));
});

if (info.count === 0) {
  test('without a device, auto runs on the CPU and says why in one line', () => {
    assert.ok(info.error.length > 0, 'the reason is reported');
    const lines: string[] = [];
    assert.is(resolveDevice('auto', 'runtime.device', (l) => lines.push(l)), 'cpu');
    assert.is(lines.length, 1);
    assert.ok(lines[0].startsWith('runtime.device auto: no CUDA device (') && lines[0].includes(info.error), lines[0]);
    assert.ok(lines[0].endsWith('the model runs on the CPU'), lines[0]);
  });

  test('without a device, cuda fails naming the setting, the reason and the fix', () => {
    assert.throws(
      () => resolveDevice('cuda', 'runtime.device'),
      (e: Error) => e instanceof RiptideError && e.message.includes("runtime.device: 'cuda' was asked for") && e.message.includes(info.error) && /Fix: .*set runtime.device to cpu or auto/.test(e.message),
    );
    assert.throws(() => Pi0Policy.create({ preset: 'tiny', device: 'cuda' }), /'cuda' was asked for/);
  });
} else {
  console.log(`device.test.ts: the no-device fallbacks are not checked on this machine, it has ${info.name}`);
}

test('runtime.device: cpu by default; auto and cuda accepted; anything else names the field', () => {
  const cfg = path.join(root, 'configs/quickstart.yaml');
  assert.is(loadTrainConfig(cfg).runtime.device, 'cpu');
  assert.is(loadTrainConfig(cfg, ['runtime.device=auto']).runtime.device, 'auto');
  assert.is(loadTrainConfig(cfg, ['runtime.device=cuda']).runtime.device, 'cuda');
  assert.throws(() => loadTrainConfig(cfg, ['runtime.device=gpu']), (e: Error) => e instanceof ConfigError && /runtime\.device: must be one of cpu, cuda, auto/.test(e.message));
});

test.run();
