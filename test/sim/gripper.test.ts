// Gripper ramp (robosuite PandaGripper): -1 opens, +1 closes, 0 holds; a full sweep is 200 substeps = 8 steps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ROBOT_STATE, VecEnv } from '../../src/sim/vec-env.ts';
import { tabletopScene } from '../../src/sim/mjcf/scene.ts';

const G = ROBOT_STATE.gripperQpos;

function fingers(env: VecEnv): [number, number] {
  const s = new Float64Array(ROBOT_STATE.size * env.numEnvs);
  env.robotState(s);
  return [s[G], s[G + 1]];
}

function steps(env: VecEnv, grip: number, n: number): void {
  const a = new Float32Array(7);
  a[6] = grip;
  for (let t = 0; t < n; t++) env.step(a);
}

test('reset leaves the fingers half open (0.020833 / -0.020833)', () => {
  const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  const [f1, f2] = fingers(env);
  assert.ok(Math.abs(f1 - 0.020833) < 1e-9 && Math.abs(f2 + 0.020833) < 1e-9, `${f1} ${f2}`);
  env.close();
});

test('from open, +1 closes the fingers within ~10 control steps but not within 4', () => {
  const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  steps(env, -1, 10);
  const [o1, o2] = fingers(env);
  assert.ok(o1 > 0.035 && o2 < -0.035, `open: ${o1} ${o2}`);
  steps(env, 1, 4);
  const [h1] = fingers(env);
  assert.ok(h1 > 0.02, `after 4 closing steps the fingers must still be more than half open, got ${h1}`);
  steps(env, 1, 6);
  const [c1, c2] = fingers(env);
  assert.ok(c1 < 0.006 && c2 > -0.006, `after 10 closing steps: ${c1} ${c2}`);
  assert.ok(Math.abs(c1 + c2) < 1e-6, 'the fingers move symmetrically');
  env.close();
});

test('-1 opens a closed gripper, 0 holds an intermediate opening', () => {
  const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  steps(env, 1, 12);
  steps(env, -1, 10);
  const [o1] = fingers(env);
  assert.ok(o1 > 0.035, `reopened: ${o1}`);
  // From fully open (ramp at -1), 3 closing steps = 75 substeps move the ramp to -0.25: ctrl 0.025.
  steps(env, -1, 4);
  steps(env, 1, 3);
  steps(env, 0, 12);
  const [m1] = fingers(env);
  assert.ok(Math.abs(m1 - 0.025) < 0.003, `held at ${m1}, expected ~0.025`);
  steps(env, 0, 4);
  const [m2] = fingers(env);
  assert.ok(Math.abs(m2 - m1) < 5e-4, `hold drifted ${m1} -> ${m2}`);
  env.close();
});

test.run();
