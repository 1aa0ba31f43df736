// Init states: the same seed gives the same states, another seed other states; objects start settled in their
// regions with fixtures in theirs; the stored file round-trips exactly and a file made for another scene is refused.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseBddl } from '../../src/tasks/bddl.ts';
import { generateInitStates, loadInitStates, splitIndices, writeInitStates } from '../../src/tasks/init-states.ts';
import { buildScene } from '../../src/tasks/scene.ts';
import { TaskEnv } from '../../src/tasks/task-env.ts';

const BDDL = `(define (problem LIBERO_Tabletop_Manipulation) (:domain robosuite) (:language init states test)
  (:regions
    (bowl_region (:target main_table) (:ranges ((-0.12 -0.1 -0.08 -0.06))))
    (plate_region (:target main_table) (:ranges ((-0.02 0.14 0.02 0.18))))
    (cabinet_region (:target main_table) (:ranges ((0.0 -0.3 0.02 -0.28))) (:yaw_rotation ((-0.1 0.1))))
    (top_region (:target wooden_cabinet_1)))
  (:fixtures main_table - table wooden_cabinet_1 - wooden_cabinet)
  (:objects akita_black_bowl_1 - akita_black_bowl plate_1 - plate cream_cheese_1 - cream_cheese)
  (:init (On akita_black_bowl_1 main_table_bowl_region) (On plate_1 main_table_plate_region)
    (On wooden_cabinet_1 main_table_cabinet_region) (Open wooden_cabinet_1_top_region)
    (In cream_cheese_1 wooden_cabinet_1_top_region))
  (:goal (And (On akita_black_bowl_1 plate_1))))`;

const scene = buildScene(parseBddl(BDDL, 'init.bddl'));
const env = TaskEnv.create(scene, { numEnvs: 1 });
const dir = mkdtempSync(path.join(os.tmpdir(), 'riptide-init-'));
const sizes = { task: 'init', nq: env.env.nq, nv: env.env.nv, nmocap: env.env.nmocap };

test('the same seed gives bit-identical init states; another seed gives other ones', () => {
  const a = generateInitStates(scene, env, { task: 'init', count: 3, seed: 5 });
  const b = generateInitStates(scene, env, { task: 'init', count: 3, seed: 5 });
  const c = generateInitStates(scene, env, { task: 'init', count: 3, seed: 6 });
  for (let i = 0; i < 3; i++) {
    assert.equal(Array.from(a.states[i].state), Array.from(b.states[i].state));
    assert.equal(Array.from(a.states[i].fixtures), Array.from(b.states[i].fixtures));
    assert.not.equal(Array.from(a.states[i].state), Array.from(c.states[i].state));
  }
});

test('init states are settled: time and qvel 0, objects at rest in their regions, the drawer open with its load', () => {
  const set = generateInitStates(scene, env, { task: 'init', count: 4, seed: 1 });
  const { nq } = env.env;
  const pose = new Float64Array(7);
  for (const s of set.states) {
    assert.is(s.state[0], 0);
    assert.ok(s.state.subarray(1 + nq).every((v) => v === 0));
    env.reset(0, s);
    env.env.bodyPose(0, env.env.bodyId('akita_black_bowl_1'), pose);
    assert.ok(pose[0] > -0.125 && pose[0] < -0.075 && pose[1] > -0.105 && pose[1] < -0.055, `bowl at ${pose[0]}, ${pose[1]}`);
    assert.ok(Math.abs(pose[2] - 0.9) < 0.005, `bowl z ${pose[2]}`);
    const [cx, cy, , cw, , , cz] = s.fixtures;
    assert.ok(cx >= 0 && cx <= 0.02 && cy >= -0.3 && cy <= -0.28, `cabinet at ${cx}, ${cy}`);
    assert.ok(Math.abs(2 * Math.atan2(cz, cw)) <= 0.1 + 1e-6, 'cabinet yaw within the region yaw range');
    assert.ok(s.state[1 + env.env.jointQposAddress('wooden_cabinet_1_top_level')] < -0.14, 'top drawer open');
    const inDrawer = compileIn();
    assert.ok(inDrawer(0), 'cream cheese in the open drawer');
  }
});

function compileIn() {
  const region = scene.regions.get('wooden_cabinet_1_top_region')!;
  const site = new Float64Array(12);
  const p = new Float64Array(7);
  return (k: number) => {
    env.env.sitePose(k, env.env.siteId(region.name), site);
    env.env.bodyPose(k, env.env.bodyId('cream_cheese_1'), p);
    return Math.abs(p[0] - site[0]) < region.size[0] && Math.abs(p[1] - site[1]) < region.size[1];
  };
}

test('the stored file round-trips the states exactly; splits take the last 20% as test', () => {
  const set = generateInitStates(scene, env, { task: 'init', count: 5, seed: 2 });
  const file = path.join(dir, 'a.init.json');
  writeInitStates(file, set, scene, env);
  const back = loadInitStates(file, scene, sizes);
  assert.is(back.length, 5);
  for (let i = 0; i < 5; i++) {
    assert.equal(Array.from(back[i].state), Array.from(set.states[i].state));
    assert.equal(Array.from(back[i].fixtures), Array.from(set.states[i].fixtures));
  }
  assert.equal(splitIndices(50, 'test'), [40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
  assert.is(splitIndices(50, 'train').length, 40);
  assert.is(loadInitStates(file, scene, { ...sizes, split: 'test' }).length, 1);
});

test('a file made for another scene, or damaged, is refused with the command that regenerates it', () => {
  const set = generateInitStates(scene, env, { task: 'init', count: 2 });
  const file = path.join(dir, 'b.init.json');
  writeInitStates(file, set, scene, env);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...json, signature: '0000000000000000' }));
  assert.throws(() => loadInitStates(file, scene, sizes), /another version of the scene.*riptide tasks init-states init/);
  writeFileSync(file, JSON.stringify({ ...json, data: json.data.slice(0, 40) }));
  assert.throws(() => loadInitStates(file, scene, sizes), /data holds \d+ bytes/);
  assert.throws(() => loadInitStates(path.join(dir, 'none.json'), scene, sizes), /no init states for init/);
});

test.after(() => {
  env.close();
  rmSync(dir, { recursive: true, force: true });
});
test.run();
