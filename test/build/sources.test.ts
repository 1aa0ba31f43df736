// The cmake-js build (CMakeLists.txt) and the node-gyp fallback (binding.gyp) must compile the same CPU sources,
// and every .cc file under cpp/ must be in both (a forgotten file would only break one of the two builds); the CUDA
// sources are CMake's alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

function cmakeSources(): string[] {
  const text = readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8');
  const block = text.match(/set\(RIPTIDE_SOURCES\s([\s\S]*?)\)/);
  assert.ok(block, 'CMakeLists.txt has a set(RIPTIDE_SOURCES ...) block');
  return block[1]
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .sort();
}

function gypSources(): string[] {
  const gyp = JSON.parse(readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
  return [...gyp.targets[0].sources].sort();
}

function ccFilesOnDisk(dir = 'cpp'): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (e.name !== 'cuda' && e.name !== 'dev') out.push(...ccFilesOnDisk(rel));
    } else if (e.name.endsWith('.cc')) out.push(rel);
  }
  return out.sort();
}

test('CMakeLists.txt and binding.gyp list the same CPU sources', () => {
  assert.equal(gypSources(), cmakeSources());
});

test('every .cc file under cpp/ is built', () => {
  assert.equal(cmakeSources(), ccFilesOnDisk());
});

test('every .cu file under cpp/pi0/cuda is in the CUDA source list', () => {
  const text = readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8');
  const block = text.match(/set\(RIPTIDE_CUDA_SOURCES\s([\s\S]*?)\)/);
  assert.ok(block, 'CMakeLists.txt has a set(RIPTIDE_CUDA_SOURCES ...) block');
  const listed = block[1].split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean).sort();
  const onDisk = readdirSync(path.join(root, 'cpp/pi0/cuda')).filter((f) => f.endsWith('.cu')).map((f) => `cpp/pi0/cuda/${f}`).sort();
  assert.equal(listed, onDisk);
});

test.run();
