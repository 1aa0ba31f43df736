// The built addon loads in the main thread and in a worker thread (actors are workers).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';

import { native } from '../../src/native.ts';

test('addon exposes the sim and pi0 namespaces', () => {
  const addon = native();
  assert.type(addon.sim, 'object');
  assert.type(addon.pi0, 'object');
});

test('addon loads inside a worker thread', async () => {
  const src = `
    const { parentPort } = require('node:worker_threads');
    const path = require('node:path');
    const addon = require(path.resolve('build/Release/riptide.node'));
    parentPort.postMessage(Object.keys(addon).sort().join(','));`;
  const w = new Worker(src, { eval: true });
  const msg = await new Promise<string>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  assert.is(msg, 'pi0,sim');
});

test.run();
