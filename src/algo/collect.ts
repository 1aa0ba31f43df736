// Rollout generation for one RL step (RIPT's RolloutGenerator, with its bugs fixed): draw contexts, skip the ones the
// stats say are mastered, roll each out rloo_batch_size times as one RLOO group, drop uniform groups (dynamic
// sampling) and draw again, until enough groups are kept or the attempt cap is hit (RIPT loops forever there).
// Contexts of a round are rolled out together, so their groups run in parallel across the cached envs.
import type { Context, InitStateSampler } from './init-sampler.ts';
import { isUniform } from './rloo.ts';
import type { RolloutStatsTracker } from './rollout-stats.ts';

/** What the trainer needs of a finished episode. */
export interface Outcome {
  success: boolean;
  length: number;
}

export interface RolloutJob {
  task: number;
  init: number;
  seed: number;
}

export interface Group<E extends Outcome> {
  context: Context;
  hash: string;
  episodes: E[];
  rewards: number[];
}

export interface CollectOptions<E extends Outcome> {
  sampler: InitStateSampler;
  /** null: stats tracking off. */
  stats: RolloutStatsTracker | null;
  hashOf(c: Context): string;
  taskName(task: number): string;
  rollout(jobs: RolloutJob[]): Promise<E[]>;
  /** rloo_batch_size K. */
  groupSize: number;
  /** demo_batch_size: groups wanted. */
  groups: number;
  /** early_stop_percentage: the step may end once this share of the wanted groups is kept. */
  earlyStop: number;
  dynamicSampling: boolean;
  /** Cap on contexts rolled out per step. */
  maxAttempts: number;
  /** Seed of rollout k of the a-th context drawn this step. */
  seedOf(attempt: number, k: number): number;
  log(line: string): void;
}

export interface Collected<E extends Outcome> {
  kept: Group<E>[];
  dropped: Group<E>[];
  skipped: Context[];
  attempts: number;
  capHit: boolean;
}

export async function collectGroups<E extends Outcome>(o: CollectOptions<E>): Promise<Collected<E>> {
  const want = Math.max(1, Math.ceil(o.groups * o.earlyStop));
  const out: Collected<E> = { kept: [], dropped: [], skipped: [], attempts: 0, capHit: false };
  // A step may skip at most one pass over the contexts, so a run whose contexts are all mastered still ends.
  const skipBudget = o.sampler.contexts.length;
  while (out.kept.length < want) {
    if (out.attempts >= o.maxAttempts) {
      out.capHit = true;
      o.log(`dynamic sampling: attempt cap hit (${out.attempts} contexts tried, algo.max_sample_attempts), continuing with ${out.kept.length} of ${want} groups`);
      break;
    }
    const round: Context[] = [];
    const n = Math.min(want - out.kept.length, o.maxAttempts - out.attempts);
    while (round.length < n) {
      const c = o.sampler.next();
      if (o.stats?.shouldSkip(o.hashOf(c))) {
        out.skipped.push(c);
        o.log(`skipped ${o.taskName(c.task)} init ${c.init}: its last ${o.stats.threshold} rollouts all succeeded`);
        if (out.skipped.length >= skipBudget) break;
        continue;
      }
      round.push(c);
    }
    const jobs = round.flatMap((c, i) => Array.from({ length: o.groupSize }, (_, k) => ({ task: c.task, init: c.init, seed: o.seedOf(out.attempts + i, k) })));
    out.attempts += round.length;
    const episodes = jobs.length > 0 ? await o.rollout(jobs) : [];
    round.forEach((context, i) => {
      const eps = episodes.slice(i * o.groupSize, (i + 1) * o.groupSize);
      const rewards = eps.map((e) => (e.success ? 1 : 0));
      const hash = o.hashOf(context);
      o.stats?.record(hash, o.taskName(context.task), context.init, rewards);
      const group = { context, hash, episodes: eps, rewards };
      if (o.dynamicSampling && isUniform(rewards)) {
        out.dropped.push(group);
        o.log(`dropped ${o.taskName(context.task)} init ${context.init}: all ${rewards[0] ? 'successes' : 'failures'} (${o.groupSize} rollouts carry no advantage)`);
      } else {
        out.kept.push(group); // a round draws at most the groups still wanted
      }
    });
    // A round comes up short only when the skip budget ran out.
    if (out.skipped.length >= skipBudget) {
      if (out.kept.length < want) o.log(`every context drawn is mastered (${out.skipped.length} skipped); continuing with ${out.kept.length} groups`);
      break;
    }
  }
  return out;
}
