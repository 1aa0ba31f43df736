// From kept RLOO groups to the learner's CFG-Flow update: rewards, leave-one-out advantages, the conditional weight
// of every episode, and the figures the step's log line reports. Pure bookkeeping, so a test can check it by hand.
import type { Group, Outcome } from './collect.ts';
import { advantageWeights, meanStd, rlooAdvantages } from './rloo.ts';

export interface CfgFlowOptions {
  groupSize: number;
  normalizeAdvantage: boolean;
  advMax: number;
}

export interface StepBatch<E extends Outcome> {
  /** Episodes of the kept groups, group after group. */
  episodes: E[];
  rewards: number[];
  advantages: number[];
  /** Conditional-branch weight per episode: clip(adv, 0, adv_max). */
  weights: number[];
  advMean: number;
  advStd: number;
}

export function stepBatch<E extends Outcome>(kept: readonly Group<E>[], o: CfgFlowOptions): StepBatch<E> {
  const episodes = kept.flatMap((g) => g.episodes);
  const rewards = kept.flatMap((g) => g.rewards);
  const advantages = rlooAdvantages(rewards, o.groupSize);
  const { mean, std } = meanStd(advantages);
  return {
    episodes,
    rewards,
    advantages,
    weights: advantageWeights(advantages, { normalize: o.normalizeAdvantage, max: o.advMax }),
    advMean: mean,
    advStd: std,
  };
}

/** Success rate over every rollout of the step, dropped groups included (RIPT's mean_scores counts kept groups only, biased to 0.5). */
export function meanSuccess(groups: readonly Group<Outcome>[]): number {
  const all = groups.flatMap((g) => g.rewards);
  return all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0;
}

/** A 32-bit seed mixed from integers (murmur3 finaliser), so streams of different steps and roles never overlap. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
  }
  return h >>> 0;
}
