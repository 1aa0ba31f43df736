// Determinism: the same init state and the same actions give bit-identical states, within a VecEnv and across two.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { VecEnv } from '../../src/sim/vec-env.ts';
import { tabletopScene } from '../../src/sim/mjcf/scene.ts';

const CUBE = '<body name="cube" pos="0.05 0.02 0.96"><freejoint name="cube_joint"/><geom type="box" size="0.02 0.02 0.02" rgba="0.9 0.1 0.1 1"/></body>';

function actionsAt(t: number, K: number): Float32Array {
  const a = new Float32Array(7 * K);
  for (let k = 0; k < K; k++) {
    a.set([Math.sin(t / 3), Math.cos(t / 5), -0.5, 0.1 * Math.sin(t), 0, 0.2, t % 10 < 5 ? 1 : -1], 7 * k);
  }
  return a;
}

test('two envs of one VecEnv and a second VecEnv follow bit-identical trajectories', () => {
  const mjcf = tabletopScene({ worldbody: CUBE });
  const a = VecEnv.create({ mjcf, numEnvs: 2, objects: ['cube'] });
  const b = VecEnv.create({ mjcf, numEnvs: 1, objects: ['cube'] });
  const init = a.getState(0);
  init[1 + a.jointQposAddress('cube_joint')] = 0.08; // move the cube: a non-default init state
  a.reset(0, init);
  a.reset(1, init);
  b.reset(0, init);
  for (let t = 0; t < 30; t++) {
    a.step(actionsAt(t, 2));
    b.step(actionsAt(t, 1));
  }
  const s0 = Array.from(a.getState(0));
  assert.equal(Array.from(a.getState(1)), s0);
  assert.equal(Array.from(b.getState(0)), s0);
  assert.ok(s0[0] > 1.49 && s0[0] < 1.51, `time after 30 steps ${s0[0]}`);
  a.close();
  b.close();
});

test('reset with a state restores it exactly; inactive envs do not move', () => {
  const env = VecEnv.create({ mjcf: tabletopScene({ worldbody: CUBE }), numEnvs: 2 });
  for (let t = 0; t < 5; t++) env.step(actionsAt(t, 2));
  const s = env.getState(0);
  env.reset(1, s);
  assert.equal(Array.from(env.getState(1)), Array.from(s));
  env.step(actionsAt(7, 2), new Uint8Array([0, 1]));
  assert.equal(Array.from(env.getState(0)), Array.from(s));
  assert.not.equal(Array.from(env.getState(1)), Array.from(s));
  env.close();
});

test('runNativeLoop steps exactly like step() called from JS', () => {
  const mjcf = tabletopScene();
  const js = VecEnv.create({ mjcf, numEnvs: 2 });
  const nat = VecEnv.create({ mjcf, numEnvs: 2 });
  const T = 4;
  const all = new Float32Array(T * 14);
  for (let t = 0; t < T; t++) all.set(actionsAt(t, 2), t * 14);
  for (let t = 0; t < 6; t++) js.step(all.subarray((t % T) * 14, (t % T) * 14 + 14));
  const ms = nat.runNativeLoop(all, 6);
  assert.ok(ms > 0);
  assert.equal(Array.from(nat.getState(1)), Array.from(js.getState(1)));
  js.close();
  nat.close();
});

test.run();
