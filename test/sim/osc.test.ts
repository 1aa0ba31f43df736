// OSC_POSE response of the Panda: a unit action moves the grip site the way robosuite's controller does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ROBOT_STATE, VecEnv } from '../../src/sim/vec-env.ts';
import { tabletopScene } from '../../src/sim/mjcf/scene.ts';

const S = ROBOT_STATE.size;

// Grip-site displacement per control step of an ideal decoupled OSC (unit task-space mass, kp 150, kd 2*sqrt(kp),
// 25 x 2 ms substeps) whose goal is re-anchored 0.05 m ahead of the current pose at every step, as robosuite does.
// The arm cannot cover the whole 0.05 m in 50 ms: it settles at ~0.013 m per step.
function idealDisplacements(steps: number): number[] {
  const kp = 150, kd = 2 * Math.sqrt(kp), dt = 0.002;
  let x = 0, v = 0;
  const out: number[] = [];
  for (let t = 0; t < steps; t++) {
    const goal = x + 0.05;
    for (let s = 0; s < 25; s++) {
      v += (kp * (goal - x) - kd * v) * dt;
      x += v * dt;
    }
    out.push(x);
  }
  return out;
}

function quatAngle(a: Float64Array, ia: number, b: Float64Array, ib: number): number {
  let dot = 0;
  for (let i = 0; i < 4; i++) dot += a[ia + i] * b[ib + i];
  return 2 * Math.acos(Math.min(1, Math.abs(dot)));
}

function run(env: VecEnv, action: number[], steps: number): { before: Float64Array; after: Float64Array } {
  const before = new Float64Array(S * env.numEnvs);
  const after = new Float64Array(S * env.numEnvs);
  const a = new Float32Array(7 * env.numEnvs);
  for (let k = 0; k < env.numEnvs; k++) a.set(action, 7 * k);
  env.robotState(before);
  for (let t = 0; t < steps; t++) env.step(a);
  env.robotState(after);
  return { before, after };
}

test('a unit +x action moves the grip site along +x at the OSC rate, holding y, z and orientation', () => {
  const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  const { before, after } = run(env, [1, 0, 0, 0, 0, 0, 0], 5);
  const dx = after[0] - before[0];
  const expected = idealDisplacements(5)[4];
  assert.ok(Math.abs(dx - expected) < 0.3 * expected, `dx over 5 steps ${dx.toFixed(4)} m, expected ~${expected.toFixed(4)} m`);
  assert.ok(Math.abs(after[1] - before[1]) < 0.005, `y drift ${after[1] - before[1]}`);
  assert.ok(Math.abs(after[2] - before[2]) < 0.01, `z drift ${after[2] - before[2]}`);
  const angle = quatAngle(before, ROBOT_STATE.eefQuat, after, ROBOT_STATE.eefQuat);
  assert.ok(angle < (3 * Math.PI) / 180, `orientation changed by ${((angle * 180) / Math.PI).toFixed(2)} deg`);
  env.close();
});

test('the steady per-step displacement matches the re-anchored goal dynamics, and -z moves down', () => {
  const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  run(env, [1, 0, 0, 0, 0, 0, 0], 4);
  const { before, after } = run(env, [1, 0, 0, 0, 0, 0, 0], 3);
  const ideal = idealDisplacements(7);
  const expected = ideal[6] - ideal[3];
  const dx = after[0] - before[0];
  assert.ok(Math.abs(dx - expected) < 0.25 * expected, `steady dx ${dx.toFixed(4)} vs ${expected.toFixed(4)}`);
  env.reset(0);
  const down = run(env, [0, 0, -1, 0, 0, 0, 0], 5);
  const dz = down.after[2] - down.before[2];
  assert.ok(dz < -0.6 * idealDisplacements(5)[4], `dz ${dz}`);
  assert.ok(Math.abs(down.after[0] - down.before[0]) < 0.01);
  env.close();
});

test('actions are clipped to [-1, 1]: a +5 action moves like +1', () => {
  const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 2 });
  const a = new Float32Array([1, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0]);
  for (let t = 0; t < 3; t++) env.step(a);
  const s0 = env.getState(0);
  const s1 = env.getState(1);
  assert.equal(Array.from(s1), Array.from(s0));
  env.close();
});

test('a +yaw action rotates the hand about world +z at the OSC rate, keeping its position', () => {
  const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  const { before, after } = run(env, [0, 0, 0, 0, 0, 1, 0], 5);
  // Relative rotation q_after * conj(q_before), quaternions xyzw.
  const q0 = before.subarray(ROBOT_STATE.eefQuat, ROBOT_STATE.eefQuat + 4);
  const q1 = after.subarray(ROBOT_STATE.eefQuat, ROBOT_STATE.eefQuat + 4);
  const [x1, y1, z1, w1] = q1;
  const [x0, y0, z0, w0] = [-q0[0], -q0[1], -q0[2], q0[3]];
  const w = w1 * w0 - x1 * x0 - y1 * y0 - z1 * z0;
  const z = w1 * z0 + z1 * w0 + x1 * y0 - y1 * x0;
  const angle = 2 * Math.acos(Math.min(1, Math.abs(w)));
  // Same dynamics as translation with 0.5 rad per unit, except that joint 7's 12 N m limit saturates the wrist
  // (robosuite's inflated link inertias), so the hand turns slower than the ideal: between 30% and 110% of it.
  const ideal = idealDisplacements(5)[4] * (0.5 / 0.05);
  assert.ok(angle > 0.3 * ideal && angle < 1.1 * ideal, `yaw ${angle.toFixed(3)} rad, ideal ${ideal.toFixed(3)}`);
  assert.ok(z * Math.sign(w) > 0, 'rotation is about +z');
  const moved = Math.hypot(after[0] - before[0], after[1] - before[1], after[2] - before[2]);
  assert.ok(moved < 0.01, `grip site moved ${moved} m while rotating`);
  env.close();
});

test("stepMode 'rs14' (mj_forward + mj_step per substep) gives the same motion as the fast mode", () => {
  const fast = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  const rs14 = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1, stepMode: 'rs14' });
  const a = new Float32Array([0.5, -0.3, -0.4, 0.1, 0, 0.2, 1]);
  for (let t = 0; t < 10; t++) {
    fast.step(a);
    rs14.step(a);
  }
  const sf = fast.getState(0);
  const sr = rs14.getState(0);
  for (let i = 0; i < sf.length; i++) assert.ok(Math.abs(sf[i] - sr[i]) < 1e-4, `state[${i}] ${sf[i]} vs ${sr[i]}`);
  fast.close();
  rs14.close();
});

test.run();
