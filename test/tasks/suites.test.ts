// The four built-in suites: LIBERO's task order and instructions; every task's scene compiles, loads its 50 stored
// init states (made for exactly this model) and steps one simulated second from one of them with no MuJoCo
// warning, and its goal is false at the start.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { allTasks, findTask, SUITES, suiteTasks } from '../../src/tasks/suites/index.ts';
import { openTask, taskInitStates } from '../../src/tasks/task.ts';
import { TaskEnv } from '../../src/tasks/task-env.ts';

test('four suites of ten tasks in LIBERO order, with the instructions eval scripts prompt with', () => {
  assert.equal([...SUITES], ['libero_spatial', 'libero_object', 'libero_goal', 'libero_10']);
  for (const s of SUITES) assert.is(suiteTasks(s).length, 10, s);
  assert.is(allTasks().length, 40);
  const l10 = suiteTasks('libero_10');
  assert.is(l10[0].language, 'put both the alphabet soup and the tomato sauce in the basket');
  assert.is(l10[9].language, 'put the yellow and white mug in the microwave and close it');
  assert.is(suiteTasks('libero_spatial')[0].language, 'pick up the black bowl between the plate and the ramekin and place it on the plate');
  assert.is(findTask('libero_10/3').name, suiteTasks('libero_10')[3].name);
  assert.is(findTask('libero_goal:7').language, 'turn on the stove');
  assert.throws(() => findTask('no_such_task'), /riptide tasks list/);
  assert.throws(() => suiteTasks('libero_90'), /libero_spatial/);
});

for (const entry of allTasks()) {
  test(`${entry.suite}/${entry.id} ${entry.name}: compiles, 50 init states, 1 s without warnings, goal false at start`, () => {
    const task = openTask(`${entry.suite}/${entry.name}`);
    const env = TaskEnv.create(task.scene, { numEnvs: 1 });
    try {
      const inits = taskInitStates(task, env);
      assert.is(inits.length, 50);
      env.reset(0, inits[entry.id * 3 % 50]);
      assert.not.ok(env.success(0), 'goal already holds at the start');
      const hold = new Float32Array(7);
      hold[6] = -1;
      for (let t = 0; t < 20; t++) env.env.step(hold);
      assert.is(env.env.warnings(0), 0, env.env.warningText(0));
    } finally {
      env.close();
    }
  });
}

test.run();
