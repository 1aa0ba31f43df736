// State/action normalisation stats in openpi's norm_stats.json format, and pi0's z-score transform (pi0.md §6):
// normalise raw (unpadded) vectors with (x - mean) / (std + 1e-6), then zero-pad to the model's 32 dims; the
// inverse slices the model output back to the raw dims. Stats: std = sqrt(E[x^2] - E[x]^2); q01/q99 from a
// 5000-bin histogram read the way openpi's RunningStats reads it (left edge of the first bin reaching q*count).
import { z } from 'zod';

import { ModelFileError, ModelInputError, readJsonFile } from './errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';

export const NORM_EPS = 1e-6;
export const QUANTILE_BINS = 5000;
export const MODEL_DIM = 32; // max_state_dim = max_action_dim in pi0

export interface FeatureStats {
  mean: number[];
  std: number[];
  q01: number[] | null;
  q99: number[] | null;
}

export interface NormStats {
  state: FeatureStats;
  actions: FeatureStats;
}

// ---------------------------------------------------------------- computing

/** Stats per dim of `rows` (each row a vector of `dim` numbers, or one flat row-major array of N*dim). */
export function computeFeatureStats(rows: readonly ArrayLike<number>[] | ArrayLike<number>, dim?: number): FeatureStats {
  const nested = Array.isArray(rows) && rows.length > 0 && typeof rows[0] === 'object';
  const d = nested ? (rows as ArrayLike<number>[])[0].length : (dim ?? 0);
  if (!(d > 0)) throw new ModelInputError('rows', 'cannot infer the vector size', 'pass rows as vectors, or a flat array and its dim.');
  const n = nested ? (rows as ArrayLike<number>[]).length : (rows as ArrayLike<number>).length / d;
  if (!Number.isInteger(n) || n === 0) {
    throw new ModelInputError('rows', `need at least one row of ${d} values (got ${nested ? n : (rows as ArrayLike<number>).length} values)`, 'pass N*dim values.');
  }
  const at = nested
    ? (r: number, i: number) => (rows as ArrayLike<number>[])[r][i]
    : (r: number, i: number) => (rows as ArrayLike<number>)[r * d + i];
  const sum = new Float64Array(d);
  const sumSq = new Float64Array(d);
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  for (let r = 0; r < n; r++) {
    if (nested && (rows as ArrayLike<number>[])[r].length !== d) {
      throw new ModelInputError(`rows[${r}]`, `has ${(rows as ArrayLike<number>[])[r].length} values, row 0 has ${d}`, 'give every row the same size.');
    }
    for (let i = 0; i < d; i++) {
      const x = at(r, i);
      if (!Number.isFinite(x)) throw new ModelInputError(`rows[${r}][${i}]`, `is ${x}`, 'drop or fix non-finite samples before computing stats.');
      sum[i] += x;
      sumSq[i] += x * x;
      if (x < lo[i]) lo[i] = x;
      if (x > hi[i]) hi[i] = x;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  const q01: number[] = [];
  const q99: number[] = [];
  const hist = new Float64Array(QUANTILE_BINS);
  for (let i = 0; i < d; i++) {
    const m = sum[i] / n;
    mean.push(m);
    std.push(Math.sqrt(Math.max(0, sumSq[i] / n - m * m)));
    // openpi pads the first histogram range by 1e-10 so min and max land inside it.
    const a = lo[i] - 1e-10;
    const b = hi[i] + 1e-10;
    const width = (b - a) / QUANTILE_BINS;
    hist.fill(0);
    for (let r = 0; r < n; r++) {
      const k = Math.floor((at(r, i) - a) / width);
      hist[Math.min(QUANTILE_BINS - 1, Math.max(0, k))] += 1;
    }
    const edge = (k: number) => a + k * width;
    const quantile = (q: number): number => {
      const target = q * n;
      let c = 0;
      for (let k = 0; k < QUANTILE_BINS; k++) {
        c += hist[k];
        if (c >= target) return edge(k);
      }
      return edge(QUANTILE_BINS);
    };
    q01.push(quantile(0.01));
    q99.push(quantile(0.99));
  }
  return { mean, std, q01, q99 };
}

export function computeNormStats(data: {
  state: readonly ArrayLike<number>[] | ArrayLike<number>;
  actions: readonly ArrayLike<number>[] | ArrayLike<number>;
  stateDim?: number;
  actionDim?: number;
}): NormStats {
  return { state: computeFeatureStats(data.state, data.stateDim), actions: computeFeatureStats(data.actions, data.actionDim) };
}

// ---------------------------------------------------------------- transforms

/**
 * z-score `rows` raw vectors (`src`, rows*d with d = stats dims) into `dst` (rows*padDim), zero-padding dims d..padDim.
 * `dstOffset` lets callers write into a slice of a batch buffer.
 */
export function normalizeInto(
  src: ArrayLike<number>,
  rows: number,
  stats: FeatureStats,
  dst: Float32Array,
  padDim = MODEL_DIM,
  dstOffset = 0,
): void {
  const d = stats.mean.length;
  if (d > padDim) throw new ModelInputError('stats', `have ${d} dims, more than the model's ${padDim}`, 'use stats for the raw (unpadded) vectors.');
  if (src.length < rows * d || dst.length < dstOffset + rows * padDim) {
    throw new ModelInputError('normalizeInto', `src has ${src.length} (need ${rows * d}), dst has ${dst.length - dstOffset} after the offset (need ${rows * padDim})`, 'size the buffers for rows*dims.');
  }
  for (let r = 0; r < rows; r++) {
    const o = dstOffset + r * padDim;
    for (let i = 0; i < d; i++) dst[o + i] = (src[r * d + i] - stats.mean[i]) / (stats.std[i] + NORM_EPS);
    dst.fill(0, o + d, o + padDim);
  }
}

/** Inverse of normalizeInto: `src` rows*padDim model values -> `dst` rows*d raw values. */
export function unnormalizeInto(
  src: ArrayLike<number>,
  rows: number,
  stats: FeatureStats,
  dst: Float32Array | Float64Array,
  padDim = MODEL_DIM,
  srcOffset = 0,
): void {
  const d = stats.mean.length;
  if (d > padDim) throw new ModelInputError('stats', `have ${d} dims, more than the model's ${padDim}`, 'use stats for the raw (unpadded) vectors.');
  if (src.length < srcOffset + rows * padDim || dst.length < rows * d) {
    throw new ModelInputError('unnormalizeInto', `src has ${src.length - srcOffset} after the offset (need ${rows * padDim}), dst has ${dst.length} (need ${rows * d})`, 'size the buffers for rows*dims.');
  }
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < d; i++) dst[r * d + i] = src[srcOffset + r * padDim + i] * (stats.std[i] + NORM_EPS) + stats.mean[i];
  }
}

// ---------------------------------------------------------------- file format

const finite = z.number({ error: 'must be a number' }).finite({ error: 'must be finite' });
const FeatureSchema = z
  .object({
    mean: z.array(finite, { error: 'must be a list of numbers' }).min(1, { error: 'must not be empty' }),
    std: z.array(finite.min(0, { error: 'must be >= 0' }), { error: 'must be a list of numbers' }),
    q01: z.array(finite).nullable().optional(),
    q99: z.array(finite).nullable().optional(),
  })
  .superRefine((f, ctx) => {
    for (const k of ['std', 'q01', 'q99'] as const) {
      const v = f[k];
      if (v && v.length !== f.mean.length) {
        ctx.addIssue({ code: 'custom', path: [k], message: `has ${v.length} values but mean has ${f.mean.length}` });
      }
    }
  });
const FileSchema = z.object({
  norm_stats: z.object({ state: FeatureSchema, actions: FeatureSchema }, { error: "must be an object with 'state' and 'actions'" }),
});

/** Validate a parsed norm_stats.json value; errors name `file` and the key (e.g. norm_stats.state.std[2]). */
export function parseNormStats(value: unknown, file: string): NormStats {
  const r = FileSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    const key = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
    const msg = i.code === 'invalid_type' && i.input === undefined ? 'is missing' : i.message;
    throw new ModelFileError(
      file,
      key,
      `${msg}${r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem(s))` : ''}`,
      'norm stats use the openpi format {"norm_stats": {"state": {"mean","std","q01","q99"}, "actions": {...}}}; recompute them (computeNormStats) or fix the key.',
    );
  }
  const f = (x: z.infer<typeof FeatureSchema>): FeatureStats => ({ mean: x.mean, std: x.std, q01: x.q01 ?? null, q99: x.q99 ?? null });
  return { state: f(r.data.norm_stats.state), actions: f(r.data.norm_stats.actions) };
}

export function readNormStats(file: string): NormStats {
  return parseNormStats(readJsonFile(file, 'fix the JSON syntax or recompute the stats.'), file);
}

export function normStatsJson(stats: NormStats): string {
  return `${JSON.stringify({ norm_stats: { state: stats.state, actions: stats.actions } }, null, 2)}\n`;
}

export function writeNormStats(file: string, stats: NormStats): void {
  writeFileAtomic(file, normStatsJson(stats));
}
