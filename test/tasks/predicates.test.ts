// LIBERO's predicates on a live scene, each with true and false cases: On (object and region forms, with the
// contact rule for object sites), In, Open, Close, TurnOn, TurnOff, Up; and the goal as their conjunction.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseBddl } from '../../src/tasks/bddl.ts';
import { compileAtom } from '../../src/tasks/predicates.ts';
import { buildScene } from '../../src/tasks/scene.ts';
import { TaskEnv } from '../../src/tasks/task-env.ts';

const BDDL = `(define (problem LIBERO_Tabletop_Manipulation)
  (:domain robosuite)
  (:language predicates test scene)
  (:regions
    (plate_region (:target main_table) (:ranges ((0.0 0.2 0.02 0.22))))
    (bowl_region (:target main_table) (:ranges ((-0.1 -0.05 -0.08 -0.03))))
    (basket_region (:target main_table) (:ranges ((-0.15 0.25 -0.13 0.27))))
    (cabinet_region (:target main_table) (:ranges ((0.0 -0.3 0.02 -0.28))))
    (stove_region (:target main_table) (:ranges ((-0.25 0.0 -0.23 0.02))))
    (contain_region (:target basket_1))
    (top_region (:target wooden_cabinet_1))
    (top_side (:target wooden_cabinet_1))
    (cook_region (:target flat_stove_1)))
  (:fixtures main_table - table wooden_cabinet_1 - wooden_cabinet flat_stove_1 - flat_stove)
  (:objects akita_black_bowl_1 - akita_black_bowl plate_1 - plate basket_1 - basket cream_cheese_1 - cream_cheese)
  (:init (On akita_black_bowl_1 main_table_bowl_region) (On plate_1 main_table_plate_region)
    (On basket_1 main_table_basket_region) (On cream_cheese_1 main_table_bowl_region)
    (On wooden_cabinet_1 main_table_cabinet_region) (On flat_stove_1 main_table_stove_region))
  (:goal (And (On akita_black_bowl_1 plate_1) (TurnOn flat_stove_1))))`;

const scene = buildScene(parseBddl(BDDL, 'predicates.bddl'));
const task = TaskEnv.create(scene, { numEnvs: 1 });
const env = task.env;
const FIXTURES = Float64Array.from([
  ...[0.01, -0.29, 0.9, 1, 0, 0, 0], // cabinet
  ...[-0.24, 0.01, 0.9, 1, 0, 0, 0], // stove
]);
const HOME = [
  ['akita_black_bowl_1', -0.09, -0.04],
  ['plate_1', 0.01, 0.21],
  ['basket_1', -0.14, 0.26],
  ['cream_cheese_1', -0.1, -0.2],
] as const;

/** A state with every object resting where HOME says (or where `moves` puts it), joints at `joints`; settled 0.5 s. */
function settle(moves: Record<string, [number, number, number]> = {}, joints: Record<string, number> = {}): void {
  env.reset(0, undefined, FIXTURES);
  const s = env.getState(0);
  for (const [name, x, y] of HOME) {
    const [px, py, pz] = moves[name] ?? [x, y, 0.902];
    s.set([px, py, pz, 1, 0, 0, 0], 1 + env.jointQposAddress(`${name}_joint`));
  }
  for (const [j, q] of Object.entries(joints)) s[1 + env.jointQposAddress(j)] = q;
  env.reset(0, s, FIXTURES);
  const hold = new Float32Array(7);
  for (let i = 0; i < 10; i++) env.step(hold);
  assert.is(env.warnings(0), 0, env.warningText(0));
}

const atom = (text: string) => {
  const [predicate, ...args] = text.toLowerCase().split(' ');
  return compileAtom(scene, env, { predicate, args, line: 1 });
};

test('On(object, object): above, in contact and within 3 cm; not when beside it or lifted clear', () => {
  const on = atom('On akita_black_bowl_1 plate_1');
  settle({ akita_black_bowl_1: [0.015, 0.215, 0.92] });
  assert.ok(on(0), 'bowl resting on the plate');
  settle({ akita_black_bowl_1: [0.05, 0.215, 0.92] });
  assert.not.ok(on(0), 'bowl 4 cm off centre');
  settle();
  assert.not.ok(on(0), 'bowl on the table');
});

test('On(object, table zone): origin inside the rectangle and the height window; no contact needed', () => {
  const on = atom('On cream_cheese_1 main_table_plate_region');
  settle({ plate_1: [0.01, 0.0, 0.902], cream_cheese_1: [0.01, 0.21, 0.902] });
  assert.ok(on(0), 'resting inside the zone');
  settle({ plate_1: [0.01, 0.0, 0.902], cream_cheese_1: [0.05, 0.21, 0.902] });
  assert.not.ok(on(0), '3 cm outside the 2 cm zone');
});

test('On(object, site of a fixture): inside the window and touching the fixture', () => {
  const on = atom('On cream_cheese_1 flat_stove_1_cook_region');
  const site = new Float64Array(12);
  env.reset(0, undefined, FIXTURES);
  env.sitePose(0, env.siteId('flat_stove_1_cook_region'), site);
  settle({ cream_cheese_1: [site[0], site[1], site[2] + 0.004] });
  assert.ok(on(0), 'resting on the burner plate');
  settle();
  assert.not.ok(on(0), 'on the table');
});

test('In(object, site): origin inside the basket region; not beside the basket', () => {
  const inside = atom('In cream_cheese_1 basket_1_contain_region');
  settle({ cream_cheese_1: [-0.14, 0.26, 0.92] });
  assert.ok(inside(0), 'dropped into the basket');
  settle({ cream_cheese_1: [-0.14, 0.12, 0.902] });
  assert.not.ok(inside(0), 'next to the basket');
});

test('Open / Close on a drawer region and on the whole cabinet: Close needs every drawer, Open any', () => {
  const openTop = atom('Open wooden_cabinet_1_top_region');
  const closeTop = atom('Close wooden_cabinet_1_top_region');
  const closeAll = atom('Close wooden_cabinet_1');
  const openAny = atom('Open wooden_cabinet_1');
  settle({}, { wooden_cabinet_1_top_level: -0.15, wooden_cabinet_1_middle_level: 0.003, wooden_cabinet_1_bottom_level: 0.003 });
  assert.ok(openTop(0) && openAny(0));
  assert.not.ok(closeTop(0) || closeAll(0));
  settle({}, { wooden_cabinet_1_top_level: 0.003, wooden_cabinet_1_middle_level: -0.15, wooden_cabinet_1_bottom_level: 0.003 });
  assert.ok(closeTop(0) && openAny(0), 'top closed while the middle drawer is open');
  assert.not.ok(closeAll(0) || openTop(0));
  settle({}, { wooden_cabinet_1_top_level: 0.003, wooden_cabinet_1_middle_level: 0.003, wooden_cabinet_1_bottom_level: 0.003 });
  assert.ok(closeAll(0));
  assert.not.ok(openAny(0));
});

test('TurnOn / TurnOff on the stove knob; the goal is the conjunction of its atoms', () => {
  const on = atom('TurnOn flat_stove_1');
  const off = atom('TurnOff flat_stove_1');
  settle({ akita_black_bowl_1: [0.015, 0.215, 0.92] }, { flat_stove_1_button: 1.0 });
  assert.ok(on(0));
  assert.not.ok(off(0));
  assert.ok(task.success(0), 'bowl on plate and stove on');
  settle({ akita_black_bowl_1: [0.015, 0.215, 0.92] }, { flat_stove_1_button: -0.005 });
  assert.ok(off(0));
  assert.not.ok(on(0));
  assert.not.ok(task.success(0), 'stove off');
});

test('Up: origin at or above 1 m', () => {
  const up = atom('Up cream_cheese_1');
  settle();
  assert.not.ok(up(0));
  env.reset(0, undefined, FIXTURES);
  const s = env.getState(0);
  s.set([-0.1, -0.2, 1.05, 1, 0, 0, 0], 1 + env.jointQposAddress('cream_cheese_1_joint'));
  env.reset(0, s, FIXTURES);
  assert.ok(up(0));
});

test.after(() => task.close());
test.run();
