// Bad input gets errors that say what was expected: MJCF, robot names, action shapes, indices, closed envs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { VecEnv } from '../../src/sim/vec-env.ts';
import { composeScene, tabletopScene } from '../../src/sim/mjcf/scene.ts';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

test('bad MJCF gives MuJoCo complaint and the env name', () => {
  const broken = tabletopScene().replace('<geom name="floor" type="plane"', '<geom name="floor" type="plaine"');
  const msg = message(() => VecEnv.create({ mjcf: broken, numEnvs: 1, name: 'libero_10/task_3' }));
  assert.match(msg, /libero_10\/task_3/);
  assert.match(msg, /plaine/);
  const notXml = message(() => VecEnv.create({ mjcf: '<mujoco><worldbody>', numEnvs: 1 }));
  assert.match(notXml, /MuJoCo could not compile/);
});

test('a MuJoCo engine error (arena too small) becomes an Error, and the process carries on', () => {
  const msg = message(() => VecEnv.create({ mjcf: composeScene({ size: { nstack: 300 } }), numEnvs: 1, name: 'tiny' }));
  assert.match(msg, /tiny: .*Stack overflow/);
  const env = VecEnv.create({ mjcf: composeScene({}), numEnvs: 1 });
  env.step(new Float32Array(7));
  assert.ok(env.getState(0)[0] > 0.049);
  env.close();
});

test('a model without the robot names lists what is missing', () => {
  const mjcf = '<mujoco><worldbody><body name="b"><freejoint/><geom size="0.1"/></body></worldbody></mujoco>';
  const msg = message(() => VecEnv.create({ mjcf, numEnvs: 1, name: 'bare' }));
  assert.match(msg, /bare/);
  assert.match(msg, /robot0_joint1/);
  assert.match(msg, /gripper0_grip_site/);
});

test('bad options: numEnvs, render size, stepMode, unknown object bodies', () => {
  const mjcf = tabletopScene();
  assert.match(message(() => VecEnv.create({ mjcf, numEnvs: 0 })), /numEnvs must be an integer in 1\.\.4096/);
  assert.match(message(() => VecEnv.create({ mjcf, numEnvs: 1, render: { width: 0, height: 128 } })), /width\/height/);
  assert.match(message(() => VecEnv.create({ mjcf, numEnvs: 1, stepMode: 'slow' as 'fast' })), /'fast' or 'rs14'/);
  assert.match(message(() => VecEnv.create({ mjcf, numEnvs: 1, objects: ['tabel'] })), /no body named 'tabel'.*table/);
});

test('bad action shapes and values say what was expected', () => {
  const env = VecEnv.create({ mjcf: composeScene({}), numEnvs: 2, name: 'shapes' });
  assert.match(message(() => env.step(new Float32Array(7))), /Float32Array of numEnvs\*7 = 14 values, got 7/);
  assert.match(message(() => env.step(new Float64Array(14) as unknown as Float32Array)), /Float32Array/);
  assert.match(message(() => env.step(new Float32Array(14), new Uint8Array(3))), /active must be a Uint8Array of numEnvs = 2/);
  const nan = new Float32Array(14);
  nan[9] = NaN;
  assert.match(message(() => env.step(nan)), /env 1 component 2 is not finite/);
  // A rejected step moves nothing.
  assert.equal(env.getState(0)[0], 0);
  assert.match(message(() => env.reset(2)), /env index must be an integer in 0\.\.1, got 2/);
  assert.match(message(() => env.reset(0, new Float64Array(5))), new RegExp(`1\\+nq\\+nv = ${env.stateSize}`));
  assert.match(message(() => env.robotState(new Float64Array(26))), /expected 52 elements/);
  assert.match(message(() => env.bodyId('robot0_hand')), /no body named 'robot0_hand'.*robot0_right_hand/);
  assert.match(message(() => env.siteId('grip_site')), /gripper0_grip_site/);
  assert.match(message(() => env.bodyPose(0, 9999, new Float64Array(7))), /out of range/);
  assert.match(message(() => env.runNativeLoop(new Float32Array(10), 1)), /T\*numEnvs\*7/);
  env.close();
});

test('close is idempotent and later calls throw "VecEnv is closed"', () => {
  const env = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  env.close();
  env.close();
  assert.ok(env.closed);
  assert.match(message(() => env.step(new Float32Array(7))), /VecEnv is closed/);
  assert.match(message(() => env.getState(0)), /VecEnv is closed/);
  assert.match(message(() => env.reset(0)), /VecEnv is closed/);
});

test.run();
