// Worker entry of `riptide demos collect` (started through actors/boot.mjs, which registers tsx): collects one
// task's demos and reports progress, the result or the error to the parent.
import { parentPort, workerData } from 'node:worker_threads';

import { RiptideError } from '../errors.ts';
import { collectTaskDemos, type CollectTaskJob } from './collect.ts';

export type CollectMessage =
  | { kind: 'progress'; kept: number; attempts: number }
  | { kind: 'done'; result: Awaited<ReturnType<typeof collectTaskDemos>> }
  /** user: a RiptideError (bad input, message says the fix), else a bug with its stack. */
  | { kind: 'error'; user: boolean; message: string; stack?: string };

const port = parentPort!;
const job = (workerData as { job: CollectTaskJob }).job;
const send = (m: CollectMessage) => port.postMessage(m);
try {
  const result = await collectTaskDemos(job, (p) => send({ kind: 'progress', ...p }));
  send({ kind: 'done', result });
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  send({ kind: 'error', user: e instanceof RiptideError, message: err.message, stack: err.stack });
}
