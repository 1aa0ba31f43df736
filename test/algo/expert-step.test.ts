// One RL step's bookkeeping on real episodes: a scripted expert wrapped as a policy, perturbed on some seeds (it
// stops and opens the gripper after a few steps, so those rollouts fail), gives groups with partial success. The
// kept/dropped groups, RLOO advantages, CFG-Flow weights and recorded stats must match a hand computation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { meanSuccess, stepBatch } from '../../src/algo/cfg-flow.ts';
import { collectGroups, type Outcome, type RolloutJob } from '../../src/algo/collect.ts';
import { InitStateSampler } from '../../src/algo/init-sampler.ts';
import { RolloutStatsTracker } from '../../src/algo/rollout-stats.ts';
import { TaskExpert } from '../../src/tasks/experts/index.ts';
import { openTask, taskInitStates } from '../../src/tasks/task.ts';
import { TaskEnv } from '../../src/tasks/task-env.ts';

const TASK = 'libero_goal/0';
const MAX_STEPS = 300;
/** Seeds the perturbed expert gives up on: it holds still with the gripper open after step 5. */
const givesUp = (seed: number) => seed % 4 === 1 || seed % 4 === 2;

/** The expert as a policy: runs each job's episode in its own env of one VecEnv. */
function expertRollout(env: TaskEnv, inits: ReturnType<typeof taskInitStates>) {
  return async (jobs: RolloutJob[]): Promise<Outcome[]> => {
    const out: Outcome[] = [];
    for (let base = 0; base < jobs.length; base += env.numEnvs) {
      const batch = jobs.slice(base, base + env.numEnvs);
      env.start(batch.map((j) => inits[j.init]));
      const expert = new TaskExpert(env);
      batch.forEach((_, k) => expert.reset(k));
      const actions = new Float32Array(env.numEnvs * 7);
      const active = new Uint8Array(env.numEnvs).fill(1, 0, batch.length);
      const res = batch.map(() => ({ success: false, length: MAX_STEPS }));
      for (let t = 1; t <= MAX_STEPS && active.some((a) => a); t++) {
        const envs = batch.map((_, k) => k).filter((k) => active[k]);
        expert.act(envs, actions);
        for (const k of envs) if (givesUp(batch[k].seed) && t > 5) actions.fill(0, k * 7, k * 7 + 6), (actions[k * 7 + 6] = -1);
        env.env.step(actions, active);
        for (const k of envs) {
          if (env.success(k)) {
            res[k] = { success: true, length: t };
            active[k] = 0;
          }
        }
      }
      out.push(...res);
    }
    return out;
  };
}

test('one step with a partly successful policy: groups, advantages, weights and stats match the hand computation', async () => {
  const task = openTask(TASK);
  const env = TaskEnv.create(task.scene, { numEnvs: 4 });
  try {
    const inits = taskInitStates(task, env);
    const stats = new RolloutStatsTracker(3);
    // Context 1 always runs clean seeds (all succeed: dropped); the others get two perturbed seeds out of four.
    const seedOf = (attempt: number, k: number) => (attempt === 1 ? 4 * k + 3 : 4 * (attempt + 10) + k);
    const r = await collectGroups({
      sampler: new InitStateSampler([[0, 1, 2, 3]], 11),
      stats,
      hashOf: (c) => `init${c.init}`,
      taskName: () => TASK,
      rollout: expertRollout(env, inits),
      groupSize: 4,
      groups: 2,
      earlyStop: 1,
      dynamicSampling: true,
      maxAttempts: 6,
      seedOf,
      log: () => {},
    });
    // Hand computation. Round 1 draws 2 contexts (attempts 0, 1): attempt 0 seeds 40..43 -> k = 0..3, gives up on
    // 41, 42 -> outcomes [1, 0, 0, 1]; attempt 1 seeds 3, 7, 11, 15 -> [1, 1, 1, 1], uniform, dropped. Round 2 draws
    // one context (attempt 2): seeds 48..51 -> [1, 0, 0, 1] again.
    assert.equal(r.kept.map((g) => g.rewards), [[1, 0, 0, 1], [1, 0, 0, 1]]);
    assert.equal(r.dropped.map((g) => g.rewards), [[1, 1, 1, 1]]);
    assert.is(r.attempts, 3);
    const b = stepBatch(r.kept, { groupSize: 4, normalizeAdvantage: false, advMax: 5 });
    // r - mean(others): 1 - 1/3 = 2/3 for a success, 0 - 2/3 for a failure.
    const adv = [2 / 3, -2 / 3, -2 / 3, 2 / 3, 2 / 3, -2 / 3, -2 / 3, 2 / 3];
    b.advantages.forEach((a, i) => assert.ok(Math.abs(a - adv[i]) < 1e-12, `advantage ${i}: ${a}`));
    assert.equal(b.weights.map((w) => +w.toFixed(12)), adv.map((a) => +Math.max(0, a).toFixed(12)));
    assert.ok(Math.abs(b.advMean) < 1e-12 && Math.abs(b.advStd - 2 / 3) < 1e-12);
    assert.is(meanSuccess([...r.kept, ...r.dropped]), 8 / 12);
    // Successful episodes end at their first success, failures run the whole budget.
    for (const g of r.kept) g.episodes.forEach((e, k) => assert.ok(e.success ? e.length < MAX_STEPS : e.length === MAX_STEPS, `k ${k}: ${e.length}`));
    // Every rolled-out group is recorded, dropped ones included.
    const recorded = [...stats.stats.values()].map((s) => s.outcomes.join(''));
    assert.equal(recorded.sort(), ['1001', '1001', '1111']);
  } finally {
    env.close();
  }
});

test.run();
