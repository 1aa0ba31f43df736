// The metrics file a training run keeps in its output folder (<dir>/metrics.json): run info, one record per
// evaluation and one per train step. The run appends through appendMetrics (re-read, append, atomic rename), so a
// crash never leaves a half-written file and `riptide report` can read it while the run goes on.
// One writer per file is assumed (the supervisor); two concurrent appenders could lose a record.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { RiptideError } from '../errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';

export const METRICS_FILE = 'metrics.json';

export interface RunInfo {
  command: string;
  config?: Record<string, unknown>;
  tasks?: string[];
}

/** One evaluation of the current policy: success rates in [0, 1]. */
export interface EvalRecord {
  step: number;
  overall_success_rate: number;
  /** Task ref -> success rate of that task's evaluation episodes. */
  per_task: Record<string, number>;
  mean_episode_length?: number;
  cfg_scale?: number;
  episodes?: number;
}

/**
 * One optimiser step. Only `step` is certain: an SFT run writes step/fm_loss/lr. A value that was NaN when written
 * is null in the file (JSON has no NaN); readers treat null as a gap.
 */
export interface TrainRecord {
  step: number;
  fm_loss?: number | null;
  mean_success?: number | null;
  groups_kept?: number;
  groups_dropped?: number;
  groups_skipped?: number;
  adv_mean?: number | null;
  adv_std?: number | null;
  lr?: number;
  grad_norm?: number | null;
  windows?: number;
  env_steps?: number;
  steps_per_s?: number;
  wall_s?: number;
}

export interface Metrics {
  run?: RunInfo;
  eval: EvalRecord[];
  train: TrainRecord[];
}

export type MetricsKind = 'eval' | 'train';

// Loose objects: fields a newer run adds are kept and ignored, never an error.
const num = z.number({ error: 'must be a number' });
const gap = num.nullable().optional();
const RunSchema = z.looseObject({
  command: z.string({ error: 'must be a string' }),
  config: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
  tasks: z.array(z.string({ error: 'must be a string' }), { error: 'must be a list of task refs' }).optional(),
});
const EvalSchema = z.looseObject({
  step: num,
  overall_success_rate: num,
  per_task: z.record(z.string(), num, { error: 'must be an object of task ref -> success rate' }),
  mean_episode_length: num.optional(),
  cfg_scale: num.optional(),
  episodes: num.optional(),
});
const TrainSchema = z.looseObject({
  step: num,
  fm_loss: gap,
  mean_success: gap,
  groups_kept: num.optional(),
  groups_dropped: num.optional(),
  groups_skipped: num.optional(),
  adv_mean: gap,
  adv_std: gap,
  lr: num.optional(),
  grad_norm: gap,
  windows: num.optional(),
  env_steps: num.optional(),
  steps_per_s: num.optional(),
  wall_s: num.optional(),
});
const MetricsSchema = z.looseObject(
  {
    run: RunSchema.optional(),
    eval: z.array(EvalSchema, { error: 'must be a list of eval records' }).default([]),
    train: z.array(TrainSchema, { error: 'must be a list of train records' }).default([]),
  },
  { error: 'must be an object with "eval" and "train" lists' },
);

const SHAPE = '{"run": {...}, "eval": [{"step", "overall_success_rate", "per_task", ...}], "train": [{"step", "fm_loss", ...}]}';

function fieldPath(p: readonly PropertyKey[]): string {
  return p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('').replace(/^\./, '');
}

function valueAt(value: unknown, p: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of p) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Validates a parsed metrics value; `file` goes into the error, with the first bad field and the expected shape. */
export function parseMetrics(value: unknown, file: string): Metrics {
  const r = MetricsSchema.safeParse(value);
  if (r.success) return r.data as Metrics;
  const i = r.error.issues[0];
  const msg = i.code === 'invalid_type' && valueAt(value, i.path) === undefined ? 'is missing' : i.message;
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem(s))` : '';
  throw new RiptideError(
    `${file}: ${i.path.length ? `field '${fieldPath(i.path)}'` : 'the top level'} ${msg}${more}. A metrics file has the shape ${SHAPE}; ` +
      'fix or remove that entry (a training run cannot append to the file until then).',
  );
}

export function metricsPath(dir: string): string {
  return path.join(dir, METRICS_FILE);
}

/** Reads and validates <dir>/metrics.json. */
export function readMetrics(dir: string): Metrics {
  const file = metricsPath(dir);
  if (!existsSync(file)) {
    throw new RiptideError(
      `${file} not found: pass the output folder of a training run (it writes ${METRICS_FILE} after each evaluation and train step).`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RiptideError(
      `${file} is not valid JSON (${(e as Error).message}); fix the syntax or restore it. The run writes it atomically, so ` +
        'a broken file was edited or copied by hand.',
    );
  }
  return parseMetrics(value, file);
}

/** Replaces <dir>/metrics.json (atomically). */
export function writeMetrics(dir: string, m: Metrics): void {
  writeFileAtomic(metricsPath(dir), `${JSON.stringify(m, null, 1)}\n`);
}

function readOrEmpty(dir: string): Metrics {
  return existsSync(metricsPath(dir)) ? readMetrics(dir) : { eval: [], train: [] };
}

/** Sets the run info, keeping any records already there (a resumed run keeps its history). */
export function writeRunInfo(dir: string, run: RunInfo): void {
  const { run: _previous, ...records } = readOrEmpty(dir);
  mkdirSync(dir, { recursive: true });
  writeMetrics(dir, { run, ...records });
}

/**
 * Appends one record to <dir>/metrics.json (created when missing). A malformed existing file is an error, not
 * overwritten: the records in it are not ours to drop.
 */
export function appendMetrics(dir: string, kind: 'eval', record: EvalRecord): void;
export function appendMetrics(dir: string, kind: 'train', record: TrainRecord): void;
export function appendMetrics(dir: string, kind: MetricsKind, record: EvalRecord | TrainRecord): void {
  const m = readOrEmpty(dir);
  // Through JSON first: a NaN loss becomes the null the file will hold, and is checked as such.
  const plain: unknown = JSON.parse(JSON.stringify(record));
  const r = (kind === 'eval' ? EvalSchema : TrainSchema).safeParse(plain);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new RiptideError(`appendMetrics: ${kind} record field '${fieldPath(i.path)}' ${i.message}; not written to ${metricsPath(dir)}.`);
  }
  if (kind === 'eval') m.eval.push(plain as EvalRecord);
  else m.train.push(plain as TrainRecord);
  mkdirSync(dir, { recursive: true });
  writeMetrics(dir, m);
}
