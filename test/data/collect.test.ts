// `demos collect` end to end on one real task (a scripted-expert episode in a worker thread), then the file checked
// against LIBERO's schema and against the simulator: first frame and state as the env gives them, and the recorded
// actions replayed from the same init state reach the goal on the last step. Also `data inspect`'s counts.
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { collectTaskRefs, dataInspect, demosCollect } from '../../src/cli/demos.ts';
import { LIBERO_DEMO_DATASETS, readLiberoHdf5 } from '../../src/data/libero-hdf5.ts';
import { ROBOT_STATE } from '../../src/sim/vec-env.ts';
import { TaskEnv } from '../../src/tasks/task-env.ts';
import { openTask, taskInitStates } from '../../src/tasks/task.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-demos-'));
const S = 32;

async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await f();
  } finally {
    console.log = log;
  }
}

test('task refs: suite tasks and names resolve once each; unknown names fail before any work', () => {
  assert.equal(collectTaskRefs({ tasks: ['libero_goal/0', 'libero_goal:open_the_middle_drawer_of_the_cabinet', 'libero_goal/1'] }), ['libero_goal/0', 'libero_goal/1']);
  assert.is(collectTaskRefs({ suite: 'libero_10', tasks: [] }).length, 10);
  assert.throws(() => collectTaskRefs({ tasks: ['libero_goal/99'] }), /libero_goal has no task '99'/);
  assert.throws(() => collectTaskRefs({ tasks: [] }), /name tasks/);
});

test('demos collect libero_goal/0: one successful demo, LIBERO schema, consistent with the simulator', async () => {
  const results = await quietly(() => demosCollect({ tasks: ['libero_goal/0'], perTask: 1, out: tmp, seed: 0, image: S }));
  assert.is(results.length, 1);
  const r = results[0];
  const file = path.join(tmp, 'open_the_middle_drawer_of_the_cabinet_demo.hdf5');
  assert.is(r.file, file);
  assert.ok(existsSync(file));
  assert.is(r.kept, 1);
  assert.ok(r.attempts >= 1);

  const task = openTask('libero_goal/0');
  const env = TaskEnv.create(task.scene, { numEnvs: 1, render: { width: S, height: S } });
  const f = await readLiberoHdf5(file);
  try {
    assert.is(f.meta.envName, 'Libero_Tabletop_Manipulation');
    assert.is(f.meta.problemInfo?.problem_name, 'libero_tabletop_manipulation');
    assert.is(f.meta.bddlFileContent, task.scene.problem.text);
    assert.is((f.meta.envArgs?.env_kwargs as Record<string, unknown>).camera_heights, S);
    assert.is(f.meta.imageConvention, 'opengl');
    assert.is(f.meta.obsTiming, 'before_action');
    assert.equal([f.meta.numDemos, f.meta.missingAttrs], [1, []]);
    assert.is(f.demos.length, 1);
    const d = f.demos[0];
    const T = d.length;
    assert.is(f.meta.total, T);
    assert.is(T, r.steps);
    assert.ok(T > 10 && T <= task.maxSteps, `T = ${T}`);
    const N = env.env.stateSize;
    for (const s of LIBERO_DEMO_DATASETS) {
      const shape = s.shape.map((x) => (x === 'T' ? T : x === 'N' ? N : x === 'H' || x === 'W' ? S : x));
      assert.equal(d.info(s.key), { dtype: s.dtype, shape }, s.key);
    }
    const demo = d.load();
    const ones = (a: Uint8Array) => Array.from(a).map((x, t) => (t === T - 1 ? x === 1 : x === 0)).every(Boolean);
    assert.ok(ones(demo.data.rewards) && ones(demo.data.dones), 'rewards and dones: 1 on the last step only');
    assert.is(d.attr('num_samples')?.value, T);
    assert.is(demo.modelFile, task.scene.mjcf);
    assert.equal(Array.from(demo.initState), Array.from(demo.data.states.subarray(0, N)), 'init_state = states[0]');
    for (let t = 0; t < T; t += 7) {
      const ee = Array.from(demo.data['obs/ee_states'].subarray(t * 6, t * 6 + 6));
      assert.equal(ee, [...demo.data['obs/ee_pos'].subarray(t * 3, t * 3 + 3), ...demo.data['obs/ee_ori'].subarray(t * 3, t * 3 + 3)]);
    }

    // Same init state and wait steps in a fresh env: the file's first step is what the env shows.
    const init = taskInitStates(task, env)[demo.extraAttrs!.riptide_init_index as number];
    env.start([init]);
    assert.equal(Array.from(env.env.getState(0)), Array.from(demo.data.states.subarray(0, N)), 'states[0]');
    const view = new Uint8Array(S * S * 3);
    env.env.render(0, 'agentview', view, { flip180: true });
    assert.ok(Buffer.from(d.image('agentview', 0)).equals(Buffer.from(view)), 'agentview frame 0 = the env render the policy sees');
    env.env.render(0, 'robot0_eye_in_hand', view, { flip180: true });
    assert.ok(Buffer.from(d.image('eye_in_hand', 0)).equals(Buffer.from(view)), 'wrist frame 0');
    const robot = new Float64Array(ROBOT_STATE.size);
    env.env.robotState(robot);
    const want = [...robot.subarray(0, 3), ...robot.subarray(ROBOT_STATE.eefAxisAngle, ROBOT_STATE.eefAxisAngle + 3), ...robot.subarray(ROBOT_STATE.gripperQpos, ROBOT_STATE.gripperQpos + 2)];
    assert.equal(Array.from(d.policyStates().subarray(0, 8)), want, 'policy state 0: eef pos, axis-angle, fingers');

    // The recorded actions are the executed ones: replayed, they reach the goal on the last step and not before.
    const a = new Float32Array(7);
    let first = -1;
    for (let t = 0; t < T; t++) {
      a.set(demo.data.actions.subarray(t * 7, t * 7 + 7));
      env.env.step(a);
      if (first < 0 && env.success(0)) first = t;
    }
    assert.is(first, T - 1, 'replay succeeds on the last recorded step');
  } finally {
    f.close();
    env.close();
  }

  const [summary] = await quietly(() => dataInspect(file));
  const T = summary.total;
  assert.equal(summary.windows, { pad: T, fit: Math.max(0, T - 49), random: 1 });
  assert.equal(summary.demos, [{ key: 'demo_0', length: T }]);
});

test.run();
