// RECAP's value targets and advantages (rl-anchors.md A.2, A.4), in normalised return units.
// Reward is -1 per step; the return from frame t of an episode of T frames is R_t = t - T + 1 (0 on the last frame),
// plus c_neg when the episode failed; r_t = R_t / normalizer lies in [-1, 0] when the normalizer is large enough.
// Bins: bin k stands for -1 + k / (bins - 1) and a target goes to the nearest, round((r + 1) * (bins - 1)) (returnToBin in
// model/value.ts). OpenTau floors instead and reads V out at other centres, -1 + (k + 0.5) / bins (rl-anchors.md A.2,
// A.3); one grid for targets and read-out keeps V unbiased against the rewards it is added to in A_t.
import { RiptideError } from '../../errors.ts';

export interface ReturnSpec {
  cNeg: number; // failure penalty, <= 0 (OpenTau: -1000)
  normalizer: number; // > 0; must keep every target inside [-1, 0]
  bins: number; // >= 2 (201)
}

/**
 * Refuses a spec where an episode of up to maxLength frames could land outside the bins (OpenTau's 400 vs -1000 trap).
 * `key` prefixes the field names in the message (e.g. 'value.' names the config keys value.normalizer, ...).
 */
export function checkReturnSpec(s: ReturnSpec, maxLength: number, where: string, key = ''): void {
  if (!(s.cNeg <= 0)) throw new RiptideError(`${where}: ${key}c_neg is ${s.cNeg}; it must be <= 0 (a penalty for failure)`);
  if (!(Number.isInteger(s.bins) && s.bins >= 2)) throw new RiptideError(`${where}: ${key}bins is ${s.bins}; it must be an integer >= 2 (OpenTau uses 201)`);
  const need = maxLength - 1 - s.cNeg;
  if (!(s.normalizer >= need)) {
    throw new RiptideError(
      `${where}: ${key}normalizer ${s.normalizer} puts a failed episode of ${maxLength} steps at ${((-(maxLength - 1) + s.cNeg) / s.normalizer).toFixed(3)}, below the lowest bin (-1); ` +
        `set it to at least ${need} (= max episode length - 1 - ${key}c_neg)`,
    );
  }
}

/** Normalised return of every frame of one episode. */
export function episodeReturns(length: number, success: boolean, s: ReturnSpec): Float64Array {
  const r = new Float64Array(length);
  const penalty = success ? 0 : s.cNeg;
  for (let t = 0; t < length; t++) r[t] = (t - length + 1 + penalty) / s.normalizer;
  return r;
}

/**
 * N-step advantages of one episode: A_t = sum of the next N rewards + V(t+N) - V(t), with V = 0 past the last frame
 * and the failure penalty only when the episode ends inside the look-ahead. `values` are V per frame (normalised).
 */
export function episodeAdvantages(values: ArrayLike<number>, success: boolean, lookAhead: number, s: ReturnSpec): Float64Array {
  const T = values.length;
  const a = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const endsInside = t + lookAhead >= T;
    let r = Math.max(t - T + 1, -lookAhead);
    if (endsInside && !success) r += s.cNeg;
    const next = t + lookAhead < T ? values[t + lookAhead] : 0;
    a[t] = r / s.normalizer + next - values[t];
  }
  return a;
}

/** Percentile p in [0, 100] with linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RiptideError('percentile of no values');
  const x = (p / 100) * (n - 1);
  const lo = Math.floor(x);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

/** The 0th, 5th, ..., 100th percentiles. */
export function percentileTable(values: ArrayLike<number>): { p: number; value: number }[] {
  const sorted = Float64Array.from(values).sort();
  return Array.from({ length: 21 }, (_, i) => ({ p: 5 * i, value: percentile(sorted, 5 * i) }));
}
