// Fixtures are mocap bodies so each env of one compiled model can hold its own fixture poses: reset takes them,
// getFixturePoses returns them, and a free object resting on a fixture follows that env's pose only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { tabletopScene } from '../../src/sim/mjcf/scene.ts';
import { VecEnv } from '../../src/sim/vec-env.ts';

const SHELF = '<body name="shelf" mocap="true" pos="0 0.2 0.95"><geom type="box" size="0.06 0.06 0.01" rgba="0.3 0.6 0.3 1"/></body>';
const CUBE = '<body name="cube" pos="0 0.2 0.975"><freejoint name="cube_joint"/><geom type="box" size="0.015 0.015 0.015" rgba="0.9 0.1 0.1 1"/></body>';

test('each env keeps its own fixture poses through reset and stepping', () => {
  const env = VecEnv.create({ mjcf: tabletopScene({ worldbody: SHELF + CUBE }), numEnvs: 2, objects: ['cube'] });
  assert.is(env.nmocap, 1);
  const low = Float64Array.from([0, 0.2, 0.95, 1, 0, 0, 0]);
  const high = Float64Array.from([0, 0.2, 1.05, Math.cos(0.2), 0, 0, Math.sin(0.2)]);
  const s = env.getState(0);
  const cubeQ = 1 + env.jointQposAddress('cube_joint');
  env.reset(0, undefined, low);
  env.reset(1, undefined, high);
  const pose = new Float64Array(7);
  env.bodyPose(1, env.bodyId('shelf'), pose);
  assert.ok(Math.abs(pose[2] - 1.05) < 1e-12, `shelf z in env 1: ${pose[2]}`);
  const back = env.getFixturePoses(1);
  for (let i = 0; i < 7; i++) assert.ok(Math.abs(back[i] - high[i]) < 1e-12);
  // Drop a cube onto each env's shelf: it rests at that env's height.
  const up = new Float64Array(env.stateSize);
  for (let k = 0; k < 2; k++) {
    env.getState(k, up);
    const fixture = k === 0 ? low : high;
    up[cubeQ + 2] = fixture[2] + 0.027;
    env.reset(k, up, fixture);
  }
  const hold = new Float32Array(14);
  for (let t = 0; t < 20; t++) env.step(hold);
  const cubes = new Float64Array(14);
  env.objectPoses(cubes);
  assert.ok(cubes[2] < 1.0 && cubes[9] > 1.05, `cubes at z ${cubes[2]} and ${cubes[9]}`);
  for (let k = 0; k < 2; k++) assert.is(env.warnings(k), 0, env.warningText(k));
  assert.throws(() => env.reset(0, s, new Float64Array(3)), /fixturePoses must be a Float64Array of nmocap\*7 = 7/);
  env.close();
});

test.run();
