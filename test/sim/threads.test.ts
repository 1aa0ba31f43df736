// VecEnvs live in worker threads: each owns its GL context and makes it current on the calling thread, and
// MuJoCo's process-wide error hook is thread-safe. Two workers render and step at the same time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';

import { renderSequenceChecksum } from './fixtures/render-sequence.ts';

const vecEnvUrl = new URL('../../src/sim/vec-env.ts', import.meta.url).href;
const fixtureUrl = new URL('./fixtures/render-sequence.ts', import.meta.url).href;
const tsxApiUrl = import.meta.resolve('tsx/esm/api');

// Runs in a worker (eval'd, with the tsx loader): steps, renders, returns a checksum.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  (await import(workerData.tsxApiUrl)).register();
  const { VecEnv } = await import(workerData.vecEnvUrl);
  const { renderSequenceChecksum } = await import(workerData.fixtureUrl);
  const sum = renderSequenceChecksum();
  let badError = '';
  try { VecEnv.create({ mjcf: '<mujoco><worldbody><geom type="nope"/></worldbody></mujoco>', numEnvs: 1 }); } catch (e) { badError = e.message; }
  parentPort.postMessage({ sum, badError });
})().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

function runWorker(): Promise<{ sum: number; badError: string; error?: string }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { vecEnvUrl, fixtureUrl, tsxApiUrl } });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

test('two worker threads step and render concurrently and agree with each other and the main thread', async () => {
  const [r1, r2] = await Promise.all([runWorker(), runWorker()]);
  assert.is(r1.error, undefined, r1.error);
  assert.is(r2.error, undefined, r2.error);
  assert.is(r1.sum, r2.sum);
  assert.match(r1.badError, /nope/);
  // The same sequence on the main thread gives the same pixels.
  const sum = renderSequenceChecksum();
  assert.is(sum, r1.sum);
});

test.run();
