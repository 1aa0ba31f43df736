// RLOO advantages (RIPT-VLA, §4 of spec/ript.md): within a group of K rollouts of one context, each rollout's
// baseline is the mean reward of the other K-1, so a uniform group (all successes or all failures) has zero advantage
// everywhere; that is why dynamic sampling drops such groups before they cost an update.
import { RiptideError } from '../errors.ts';

/** advantage_i = r_i - mean_{j != i} r_j for each group of `k` consecutive rewards. */
export function rlooAdvantages(rewards: readonly number[], k: number): number[] {
  if (!Number.isInteger(k) || k < 2) throw new RiptideError(`algo.rloo_batch_size must be >= 2 for a leave-one-out baseline, got ${k}`);
  if (rewards.length % k !== 0) throw new RiptideError(`rloo: ${rewards.length} rewards do not split into groups of ${k}`);
  const out: number[] = [];
  for (let g = 0; g < rewards.length; g += k) {
    const group = rewards.slice(g, g + k);
    const sum = group.reduce((a, b) => a + b, 0);
    for (const r of group) out.push(r - (sum - r) / (k - 1));
  }
  return out;
}

/** True when every outcome in the group is the same: it carries no learning signal. */
export function isUniform(rewards: readonly number[]): boolean {
  return rewards.every((r) => r === rewards[0]);
}

export interface AdvantageWeightOptions {
  /** Divide by the batch's advantage std (after subtracting its mean) before clipping. */
  normalize: boolean;
  /** Upper clip a_max of the conditional-branch weight. */
  max: number;
}

/** CFG-Flow conditional weights w = clip(adv (optionally normalised), 0, a_max): only better-than-baseline rollouts pull the positive branch. */
export function advantageWeights(adv: readonly number[], o: AdvantageWeightOptions): number[] {
  let scaled = adv;
  if (o.normalize && adv.length > 1) {
    const mean = adv.reduce((a, b) => a + b, 0) / adv.length;
    const std = Math.sqrt(adv.reduce((a, b) => a + (b - mean) ** 2, 0) / adv.length);
    scaled = adv.map((a) => (a - mean) / (std + 1e-8));
  }
  return scaled.map((a) => Math.min(o.max, Math.max(0, a)));
}

export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: 0, std: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
}
