// Dynamic sampling and stats skipping in collectGroups, with outcomes scripted per context (the collection logic
// alone; the expert test drives it through real episodes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { collectGroups, type CollectOptions, type Outcome, type RolloutJob } from '../../src/algo/collect.ts';
import { InitStateSampler } from '../../src/algo/init-sampler.ts';
import { RolloutStatsTracker } from '../../src/algo/rollout-stats.ts';

/** Outcomes by init index: 'mixed' succeeds on even k, 'win' always, 'lose' never. */
function options(kinds: string[], over: Partial<CollectOptions<Outcome>> = {}) {
  const rolled: RolloutJob[][] = [];
  const logs: string[] = [];
  const o: CollectOptions<Outcome> = {
    sampler: new InitStateSampler([kinds.map((_, i) => i)], 3),
    stats: null,
    hashOf: (c) => `h${c.init}`,
    taskName: () => 'task',
    rollout: async (jobs) => {
      rolled.push(jobs);
      return jobs.map((j) => {
        const kind = kinds[j.init];
        const k = j.seed % 100;
        return { success: kind === 'win' || (kind === 'mixed' && k % 2 === 0), length: 10 };
      });
    },
    groupSize: 4,
    groups: 2,
    earlyStop: 1,
    dynamicSampling: true,
    maxAttempts: 8,
    seedOf: (a, k) => a * 100 + k,
    log: (l) => logs.push(l),
    ...over,
  };
  return { o, rolled, logs };
}

test('dynamic sampling: uniform groups are dropped (and logged) and new contexts drawn until enough are kept', async () => {
  const { o, rolled, logs } = options(['win', 'lose', 'mixed', 'mixed']);
  const r = await collectGroups(o);
  assert.is(r.kept.length, 2);
  assert.ok(r.kept.every((g) => kinds(g.rewards) === 'mixed'));
  assert.is(r.dropped.length, 2, 'the all-success and the all-failure context');
  assert.is(r.attempts, 4);
  assert.not.ok(r.capHit);
  assert.ok(logs.some((l) => /dropped task init \d: all successes/.test(l)) && logs.some((l) => /all failures/.test(l)));
  assert.ok(rolled.every((jobs) => jobs.length % 4 === 0), 'whole groups only');
  // Seeds are unique per attempt and rollout.
  const seeds = rolled.flat().map((j) => j.seed);
  assert.is(new Set(seeds).size, seeds.length);
});

function kinds(rewards: number[]): string {
  return rewards.every((r) => r === 1) ? 'win' : rewards.every((r) => r === 0) ? 'lose' : 'mixed';
}

test('dynamic sampling: the attempt cap ends a step whose contexts are all uniform (RIPT issue #10 loops forever)', async () => {
  const { o, logs } = options(['win', 'lose', 'win'], { maxAttempts: 5 });
  const r = await collectGroups(o);
  assert.is(r.kept.length, 0);
  assert.is(r.attempts, 5);
  assert.ok(r.capHit);
  assert.ok(logs.some((l) => /attempt cap hit \(5 contexts tried/.test(l)), logs.join('\n'));
});

test('without dynamic sampling every group is kept; early_stop_percentage lowers the quota', async () => {
  const a = await collectGroups(options(['win', 'lose'], { dynamicSampling: false }).o);
  assert.is(a.kept.length, 2);
  assert.is(a.dropped.length, 0);
  const b = await collectGroups(options(['mixed', 'mixed', 'mixed', 'mixed'], { groups: 4, earlyStop: 0.5 }).o);
  assert.is(b.kept.length, 2);
});

test('stats: a context whose last outcomes all succeeded is skipped without a rollout, and a run of them ends', async () => {
  const stats = new RolloutStatsTracker(3);
  stats.record('h0', 'task', 0, [1, 1, 1]);
  const { o, rolled, logs } = options(['win', 'mixed'], { stats, groups: 1 });
  const r = await collectGroups(o);
  assert.equal(r.kept.map((g) => g.context.init), [1]);
  assert.ok(rolled.flat().every((j) => j.init === 1), 'the mastered context was never rolled out');
  assert.ok(r.skipped.every((c) => c.init === 0));
  assert.ok(logs.some((l) => /skipped task init 0: its last 3 rollouts all succeeded/.test(l)));
  assert.equal(stats.stats.get('h1')!.outcomes, [1, 0, 1, 0], 'the rolled-out group is recorded');

  const all = new RolloutStatsTracker(3);
  all.record('h0', 'task', 0, [1, 1, 1]);
  const done = await collectGroups(options(['win'], { stats: all }).o);
  assert.is(done.kept.length, 0);
  assert.ok(done.skipped.length >= 1);
});

test.run();
