// The scripted experts' moving skills on small scenes: a rim grasp (bowl onto plate), top grasps into the basket on
// the floor, and pushing a plate into a table zone. Success is LIBERO's goal check, after the wait steps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseBddl } from '../../src/tasks/bddl.ts';
import { planSkills, runExpert } from '../../src/tasks/experts/index.ts';
import { generateInitStates } from '../../src/tasks/init-states.ts';
import { buildScene } from '../../src/tasks/scene.ts';
import { TaskEnv } from '../../src/tasks/task-env.ts';

const EPISODES = 4;

function successes(text: string): { ok: number; skills: string[] } {
  const scene = buildScene(parseBddl(text, 'expert.bddl'));
  const env = TaskEnv.create(scene, { numEnvs: EPISODES });
  try {
    const set = generateInitStates(scene, env, { task: 'expert', count: EPISODES, seed: 3 });
    const res = runExpert(env, set.states, { maxSteps: 400 });
    return { ok: res.filter((r) => r.success).length, skills: planSkills(scene) };
  } finally {
    env.close();
  }
}

test('rim grasp: the black bowl goes onto the plate', () => {
  const { ok, skills } = successes(`(define (problem LIBERO_Tabletop_Manipulation) (:domain robosuite) (:language put the bowl on the plate)
    (:regions (a (:target main_table) (:ranges ((-0.12 -0.16 -0.06 -0.1)))) (b (:target main_table) (:ranges ((-0.06 0.12 -0.02 0.18)))))
    (:fixtures main_table - table) (:objects akita_black_bowl_1 - akita_black_bowl plate_1 - plate)
    (:init (On akita_black_bowl_1 main_table_a) (On plate_1 main_table_b)) (:goal (And (On akita_black_bowl_1 plate_1))))`);
  assert.equal(skills, ['place akita_black_bowl_1 on plate_1']);
  assert.is(ok, EPISODES);
});

test('top grasps on the floor: a milk carton and a butter box go into the basket', () => {
  const { ok, skills } = successes(`(define (problem LIBERO_Floor_Manipulation) (:domain robosuite) (:language put both in the basket)
    (:regions (a (:target floor) (:ranges ((-0.145 -0.265 -0.095 -0.215)))) (b (:target floor) (:ranges ((0.0 -0.1 0.04 -0.06))))
      (c (:target floor) (:ranges ((-0.01 0.25 0.01 0.27)))) (contain_region (:target basket_1)))
    (:fixtures floor - floor) (:objects milk_1 - milk butter_1 - butter basket_1 - basket)
    (:init (On milk_1 floor_a) (On butter_1 floor_b) (On basket_1 floor_c))
    (:goal (And (In milk_1 basket_1_contain_region) (In butter_1 basket_1_contain_region))))`);
  assert.equal(skills, ['place milk_1 in basket_1_contain_region', 'place butter_1 in basket_1_contain_region']);
  assert.is(ok, EPISODES);
});

test('push: a plate slides along the table into a zone', () => {
  const { ok, skills } = successes(`(define (problem LIBERO_Tabletop_Manipulation) (:domain robosuite) (:language push the plate)
    (:regions (a (:target main_table) (:ranges ((-0.05 0.1 -0.03 0.12)))) (front (:target main_table) (:ranges ((-0.2 -0.1 -0.1 0.0)))))
    (:fixtures main_table - table) (:objects plate_1 - plate)
    (:init (On plate_1 main_table_a)) (:goal (And (On plate_1 main_table_front))))`);
  assert.equal(skills, ['push plate_1 to main_table_front']);
  assert.is(ok, EPISODES);
});

test.run();
