// `riptide demos collect` (scripted-expert demonstrations as LIBERO HDF5 files, one worker thread per task at a time)
// and `riptide data inspect` (what a demo file holds and how many training windows it gives).
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { ACTION_HORIZON, demoFiles, usableSteps, windowCount, WINDOW_MODES, type WindowMode } from '../data/dataset.ts';
import { attemptCap, checkCollectJob, collectTaskDemos, type CollectProgress, type CollectTaskJob, type CollectTaskResult } from '../data/collect.ts';
import type { CollectMessage } from '../data/collect-worker.ts';
import { languageFromFileName, readLiberoHdf5 } from '../data/libero-hdf5.ts';
import { RiptideError } from '../errors.ts';
import { findTask, suiteTasks } from '../tasks/suites/index.ts';
import { ProgressLine } from './progress.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BOOT = path.resolve(HERE, '../../actors/boot.mjs');
const WORKER_ENTRY = pathToFileURL(path.resolve(HERE, '../data/collect-worker.ts')).href;

export interface DemosCollectOptions {
  /** All tasks of this suite (added to `tasks`). */
  suite?: string;
  tasks: string[];
  perTask: number;
  out: string;
  seed: number;
  /** Std of the gaussian noise on the 6 arm action dims (default 0.05). */
  noise?: number;
  /** Camera image size, square (default 128, LIBERO's). */
  image?: number;
  /** Episodes tried per task at most (default max(10, 4 * perTask)). */
  maxAttempts?: number;
  /** gzip level of the image datasets, 0..9 (default 0: uncompressed, as LIBERO's files). */
  gzip?: number;
  /** Worker threads (default one per core, at most one per task); 0 runs every task in this thread (debugging). */
  workers?: number;
}

/** The task refs to collect: --suite's tasks then the named ones, each once; unknown names fail here, not in a worker. */
export function collectTaskRefs(opts: Pick<DemosCollectOptions, 'suite' | 'tasks'>): string[] {
  const refs = [...(opts.suite ? suiteTasks(opts.suite).map((t) => `${t.suite}/${t.id}`) : [])];
  for (const t of opts.tasks) {
    if (t.endsWith('.bddl') || existsSync(t)) {
      if (!existsSync(t)) throw new RiptideError(`${t}: no such BDDL file`);
      refs.push(t);
    } else {
      const e = findTask(t);
      refs.push(`${e.suite}/${e.id}`);
    }
  }
  if (refs.length === 0) throw new RiptideError('demos collect: name tasks (e.g. libero_goal/0) or give --suite <name>');
  return [...new Set(refs)];
}

function runInWorker(job: CollectTaskJob, onProgress: (p: CollectProgress) => void): Promise<CollectTaskResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOT, { workerData: { entry: WORKER_ENTRY, job } });
    let settled = false;
    const settle = (f: () => void) => {
      if (!settled) {
        settled = true;
        f();
      }
    };
    worker.on('message', (m: CollectMessage) => {
      if (m.kind === 'progress') onProgress(m);
      else if (m.kind === 'done') settle(() => resolve(m.result));
      else {
        const err = m.user ? new RiptideError(m.message) : Object.assign(new Error(`${job.task}: ${m.message}`), { stack: m.stack });
        settle(() => reject(err));
      }
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) => settle(() => reject(new Error(`${job.task}: demo worker exited (code ${code}) before reporting`))));
  });
}

/**
 * Runs the scripted experts with mild action noise and writes `<out>/<task name>_demo.hdf5` per task (successful
 * episodes only). Prints a progress line per task and a summary line with the success rate; throws after the others
 * finish when a task got no demo at all.
 */
export async function demosCollect(opts: DemosCollectOptions): Promise<CollectTaskResult[]> {
  const refs = collectTaskRefs(opts);
  const base = {
    perTask: opts.perTask,
    out: path.resolve(opts.out),
    seed: opts.seed,
    noise: opts.noise ?? 0.05,
    image: opts.image ?? 128,
    maxAttempts: opts.maxAttempts,
    gzip: opts.gzip ?? 0,
  };
  const jobs: CollectTaskJob[] = refs.map((task) => ({ task, ...base }));
  checkCollectJob(jobs[0]);
  const workers = opts.workers ?? Math.min(os.availableParallelism(), jobs.length);
  if (!(Number.isInteger(workers) && workers >= 0)) throw new RiptideError(`--workers must be a whole number >= 0, got ${workers}`);
  console.log(
    `collecting ${opts.perTask} demo(s) for each of ${jobs.length} task(s) into ${base.out} ` +
      `(noise ${base.noise}, ${base.image}x${base.image} images, at most ${attemptCap(jobs[0])} attempts per task, ${workers || 'no'} worker thread(s))`,
  );
  const results: CollectTaskResult[] = new Array(jobs.length);
  const errors: unknown[] = [];
  let next = 0;
  const runOne = async (i: number) => {
    const job = jobs[i];
    const bar = new ProgressLine(job.task, job.perTask);
    const onProgress = (p: CollectProgress) => bar.update(p.kept, `${p.attempts} attempts`);
    try {
      const r = workers === 0 ? await collectTaskDemos(job, onProgress) : await runInWorker(job, onProgress);
      bar.done();
      results[i] = r;
      const rate = r.attempts ? ((100 * r.kept) / r.attempts).toFixed(0) : '0';
      const short = r.kept < job.perTask ? ` (wanted ${job.perTask}: attempt cap reached)` : '';
      const rel = r.file && path.relative(process.cwd(), r.file);
      const where = r.file ? ` -> ${rel && !rel.startsWith('..') ? rel : r.file}` : ', nothing written';
      console.log(`${job.task}: ${r.kept} demo(s)${short} from ${r.attempts} attempt(s), success rate ${rate}%, ${r.steps} steps, ${r.seconds.toFixed(1)} s${where}`);
    } catch (e) {
      bar.done();
      errors.push(e);
      console.log(`${job.task}: failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const lane = async () => {
    while (next < jobs.length) await runOne(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, lane));
  if (errors.length > 0) throw errors[0];
  const empty = results.filter((r) => r.kept === 0).map((r) => r.task);
  if (empty.length > 0) {
    throw new RiptideError(`no successful episode for ${empty.join(', ')}; raise --max-attempts or lower --noise`);
  }
  return results;
}

export interface InspectSummary {
  file: string;
  demos: { key: string; length: number }[];
  total: number;
  windows: Record<WindowMode, number>;
}

/** Prints what a demo file (or each file of a folder) holds and its training windows per epoch in each mode. */
export async function dataInspect(input: string, opts: { horizon?: number } = {}): Promise<InspectSummary[]> {
  const H = opts.horizon ?? ACTION_HORIZON;
  const out: InspectSummary[] = [];
  for (const file of demoFiles([input])) {
    const f = await readLiberoHdf5(file);
    try {
      const { meta } = f;
      const p = meta.problemInfo;
      const first = f.demos[0];
      console.log(`file       ${file}`);
      console.log(`env        ${meta.envName ?? '(no env_name)'}${p ? ` (problem ${p.problem_name}, domain ${p.domain_name})` : ''}`);
      console.log(`language   ${p ? `"${p.language_instruction}" (problem_info)` : '(no problem_info)'}; prompt from the file name: "${languageFromFileName(file)}"`);
      if (meta.bddlFileName) console.log(`bddl       ${meta.bddlFileName}`);
      console.log(
        `images     2 cameras ${first.height}x${first.width}, convention ${meta.imageConvention} ` +
          `(${meta.imageConvention === 'opengl' ? 'stored upside down; the policy sees them rotated 180 degrees' : 'stored row-flipped; the policy sees them mirrored left-right'})`,
      );
      console.log(`obs timing ${meta.obsTiming === 'before_action' ? 'obs[t] recorded before action t' : "obs[t] recorded after action t (LIBERO's create_dataset.py): obs[t] pairs with actions[t+1..]"}`);
      if (meta.missingAttrs.length) console.log(`missing    data attrs ${meta.missingAttrs.join(', ')}`);
      const demos = f.demos.map((d) => ({ key: d.key, length: d.length }));
      const total = demos.reduce((n, d) => n + d.length, 0);
      const attrs = meta.numDemos !== undefined ? ` (attrs: num_demos ${meta.numDemos}, total ${meta.total})` : '';
      console.log(`demos      ${demos.length}, ${total} steps${attrs}; state from ${first.stateSource}`);
      for (const d of f.demos) console.log(`  ${d.key.padEnd(9)} ${String(d.length).padStart(5)} steps`);
      const windows = Object.fromEntries(
        WINDOW_MODES.map((m) => [m, f.demos.reduce((n, d) => n + windowCount(usableSteps(d.length, meta.obsTiming), m, H), 0)]),
      ) as Record<WindowMode, number>;
      console.log(`windows    (H=${H}) pad ${windows.pad} (every step), fit ${windows.fit} (whole windows only), random ${windows.random} (one per demo per epoch)`);
      out.push({ file, demos, total, windows });
    } finally {
      f.close();
    }
  }
  return out;
}
