// The example scene: robot at its init pose without self-contact, a grip site between the fingertips, objects
// that settle on the table, and one simulated second without a MuJoCo warning (Menagerie's rule).
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ROBOT_STATE, VecEnv } from '../../src/sim/vec-env.ts';
import { tabletopScene } from '../../src/sim/mjcf/scene.ts';
import { PANDA_INIT_QPOS } from '../../src/sim/mjcf/panda.ts';

const CUBE = '<body name="cube" pos="0.1 0.1 0.95"><freejoint/><geom type="box" size="0.02 0.02 0.02" rgba="0.9 0.1 0.1 1"/></body>';

test('reset puts the arm at its init qpos, without contacts, fingers either side of the grip site', () => {
  const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  const s = new Float64Array(ROBOT_STATE.size);
  env.robotState(s);
  for (let i = 0; i < 7; i++) assert.ok(Math.abs(s[ROBOT_STATE.jointPos + i] - PANDA_INIT_QPOS[i]) < 1e-12);
  assert.is(env.contactCount(0), 0);
  // The hand points down: eef quat (xyzw) close to a half turn about x, axis-angle close to (pi, 0, 0).
  assert.ok(Math.abs(s[ROBOT_STATE.eefAxisAngle] - Math.PI) < 0.1 && Math.abs(s[ROBOT_STATE.eefAxisAngle + 2]) < 0.2);
  const tip1 = new Float64Array(7);
  const tip2 = new Float64Array(7);
  env.bodyPose(0, env.bodyId('gripper0_finger_joint1_tip'), tip1);
  env.bodyPose(0, env.bodyId('gripper0_finger_joint2_tip'), tip2);
  const mid = [0, 1, 2].map((i) => (tip1[i] + tip2[i]) / 2);
  const grip = new Float64Array(12);
  env.sitePose(0, env.siteId('gripper0_grip_site'), grip);
  assert.ok(Math.hypot(grip[0] - mid[0], grip[1] - mid[1]) < 1e-3, 'grip site centred between the fingers');
  assert.ok(Math.abs(grip[2] - mid[2]) < 0.015, `grip site ${grip[2]} vs fingertips ${mid[2]}`);
  assert.ok(Math.abs(s[0] - grip[0]) < 1e-12 && Math.abs(s[2] - grip[2]) < 1e-12, 'eefPos is the grip site');
  env.close();
});

test('the example scene steps one simulated second with no MuJoCo warning; an object settles on the table', () => {
  const env = VecEnv.create({ mjcf: tabletopScene({ worldbody: CUBE }), numEnvs: 2, objects: ['cube'] });
  const a = new Float32Array(14);
  for (let t = 0; t < 20; t++) {
    a.set([Math.sin(t / 4), Math.cos(t / 3), -0.6, 0, 0, 0.3, t < 10 ? 1 : -1], 0);
    env.step(a);
  }
  for (let k = 0; k < 2; k++) assert.is(env.warnings(k), 0, env.warningText(k));
  const poses = new Float64Array(2 * 7);
  env.objectPoses(poses);
  assert.ok(Math.abs(poses[2] - 0.92) < 0.002, `cube rests on the table top: z ${poses[2]}`);
  assert.ok(Math.abs(poses[6]) > 0.999, 'cube upright (quat xyzw w ~ 1)');
  const cube = env.bodyId('cube');
  assert.ok(env.inContact(0, cube, env.bodyId('table')));
  assert.not.ok(env.inContact(0, cube, env.bodyId('robot0_base')));
  env.close();
});

test('the fingers touch an object they close on (subtree contact through the hand)', () => {
  const box = '<body name="block" pos="-0.2085 0 0.93"><freejoint/><geom type="box" size="0.015 0.015 0.03" rgba="0.1 0.6 0.9 1"/></body>';
  const env = VecEnv.create({ mjcf: tabletopScene({ worldbody: box }), numEnvs: 1, objects: ['block'] });
  const s = new Float64Array(ROBOT_STATE.size);
  const a = new Float32Array(7);
  a[6] = -1;
  // The OSC covers ~0.013 m per step at full action: ~20 steps from the init pose down to the block.
  for (let t = 0; t < 30; t++) {
    env.robotState(s);
    if (s[2] < 0.955) break;
    a[2] = Math.max(-1, Math.min(1, (0.95 - s[2]) / 0.05 * 4));
    a[0] = Math.max(-1, Math.min(1, (-0.2085 - s[0]) / 0.05 * 4));
    a[1] = Math.max(-1, Math.min(1, (0 - s[1]) / 0.05 * 4));
    env.step(a);
  }
  a.fill(0);
  a[6] = 1;
  for (let t = 0; t < 10; t++) env.step(a);
  const block = env.bodyId('block');
  assert.ok(env.inContact(0, env.bodyId('robot0_right_hand'), block), 'hand subtree touches the block');
  assert.ok(env.inContact(0, env.bodyId('gripper0_leftfinger'), block));
  env.robotState(s);
  assert.ok(s[ROBOT_STATE.gripperQpos] > 0.01, `fingers stopped by the block: ${s[ROBOT_STATE.gripperQpos]}`);
  assert.is(env.warnings(0), 0, env.warningText(0));
  env.close();
});

test.run();
