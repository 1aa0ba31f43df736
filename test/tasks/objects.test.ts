// The movable-object library: every category rests upright on the table through one simulated second without a
// MuJoCo warning, weighs about what LIBERO's does, fits the Panda's gripper where it claims a grasp, names
// everything after its instance, and the basket holds what is dropped into it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { RiptideError } from '../../src/errors.ts';
import { tabletopScene } from '../../src/sim/mjcf/scene.ts';
import { ROBOT_STATE, VecEnv } from '../../src/sim/vec-env.ts';
import { orientationError } from '../../src/tasks/bowl-plate.ts';
import { objectModel, OBJECTS } from '../../src/tasks/assets/objects.ts';
import type { AssetModel } from '../../src/tasks/assets/types.ts';

const TABLE_TOP_Z = 0.9;
const DROP = 0.005; // objects start this far above the table
const SECOND = 20; // control steps of 0.05 s

// spec/libero.md §6 masses (kg) = 100 x collision volume in LIBERO's own assets.
const LIBERO_MASS: Record<string, number> = {
  alphabet_soup: 0.026,
  tomato_sauce: 0.026,
  cream_cheese: 0.006,
  butter: 0.005,
  ketchup: 0.023,
  milk: 0.032,
  orange_juice: 0.032,
  chocolate_pudding: 0.01,
  basket: 0.136,
  akita_black_bowl: 0.006,
  plate: 0.012,
  porcelain_mug: 0.016,
  white_yellow_mug: 0.031,
  red_coffee_mug: 0.029,
  moka_pot: 0.068,
  chefmate_8_frypan: 0.05,
  black_book: 0.043,
  wine_bottle: 0.015,
};

// ---------------------------------------------------------------------------------------------------------------
// Reading the geoms back out of the MJCF an asset writes.

interface Geom {
  name: string;
  type: string;
  size: number[];
  pos: number[];
  euler: number[];
  group: number;
  tag: string;
}

function attr(tag: string, key: string): string | undefined {
  return tag.match(new RegExp(`\\s${key}="([^"]*)"`))?.[1];
}

function geoms(xml: string): Geom[] {
  return [...xml.matchAll(/<geom\s[^>]*\/>/g)].map(([tag]) => {
    const vec = (key: string, dflt: number[]) => (attr(tag, key)?.split(/\s+/).map(Number) ?? dflt);
    return {
      name: attr(tag, 'name') ?? '',
      type: attr(tag, 'type') ?? 'sphere',
      size: vec('size', []),
      pos: vec('pos', [0, 0, 0]),
      euler: vec('euler', [0, 0, 0]),
      group: Number(attr(tag, 'group') ?? 0),
      tag,
    };
  });
}

const collisionGeoms = (m: AssetModel) => geoms(m.body('t_1')).filter((g) => g.group === 0);

/** Vertical extent of an upright (yaw-only) geom. */
function zRange(g: Geom): [number, number] {
  const hz = g.type === 'box' ? g.size[2] : g.size[1];
  return [g.pos[2] - hz, g.pos[2] + hz];
}

/** Half extent of a yaw-only geom along horizontal direction angle a (box or upright cylinder). */
function halfExtentAlong(g: Geom, a: number): number {
  if (g.type !== 'box') return g.size[0];
  const d = a - g.euler[2];
  return g.size[0] * Math.abs(Math.cos(d)) + g.size[1] * Math.abs(Math.sin(d));
}

/** Farthest horizontal distance from the origin of a yaw-only geom. */
function horizontalReach(g: Geom): number {
  if (g.type !== 'box') return Math.hypot(g.pos[0], g.pos[1]) + g.size[0];
  const [c, s] = [Math.cos(g.euler[2]), Math.sin(g.euler[2])];
  const corners = [[1, 1], [1, -1], [-1, 1], [-1, -1]].map(([u, v]) => [u * g.size[0], v * g.size[1]]);
  return Math.max(...corners.map(([u, v]) => Math.hypot(g.pos[0] + c * u - s * v, g.pos[1] + s * u + c * v)));
}

function volume(g: Geom): number {
  const [a, b, c] = g.size;
  if (g.type === 'box') return 8 * a * b * c;
  if (g.type === 'cylinder') return Math.PI * a * a * 2 * b;
  if (g.type === 'capsule') return Math.PI * a * a * 2 * b + (4 / 3) * Math.PI * a ** 3;
  throw new Error(`no volume rule for geom type ${g.type}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Static facts.

test('every category is an object with collision and visual geoms in their groups, no joints, sites only on the basket', () => {
  assert.ok(OBJECTS.size >= 22, `${OBJECTS.size} categories`);
  for (const [category, m] of OBJECTS) {
    assert.is(m.category, category);
    assert.is(m.kind, 'object');
    assert.equal(m.joints, []);
    assert.equal(m.sites.map((s) => s.name), category === 'basket' ? ['contain_region'] : [], category);
    const all = geoms(m.body('t_1'));
    assert.ok(all.some((g) => g.group === 0) && all.some((g) => g.group === 1), category);
    for (const g of all) {
      assert.ok(['box', 'cylinder', 'capsule'].includes(g.type), `${g.name}: ${g.type}`);
      if (g.group === 0) {
        assert.ok(g.tag.includes('density="100"') && g.tag.includes('solref="0.001 1"'), `${g.name} has LIBERO's contact parameters`);
        assert.ok(g.euler[0] === 0 && g.euler[1] === 0, `${g.name}: collision geoms only turn about z`);
      } else {
        assert.is(g.group, 1, g.name);
        assert.ok(/contype="0" conaffinity="0" mass="0"/.test(g.tag), `${g.name} is visual only`);
      }
    }
  }
});

test('origin at the bottom of the collision geometry; height is its top; radius covers every geom', () => {
  for (const [category, m] of OBJECTS) {
    const col = collisionGeoms(m);
    const bottom = Math.min(...col.map((g) => zRange(g)[0]));
    const top = Math.max(...col.map((g) => zRange(g)[1]));
    assert.ok(Math.abs(bottom) < 1e-9, `${category}: lowest collision point at ${bottom}`);
    assert.ok(Math.abs(top - m.height) < 1e-6, `${category}: top ${top} vs height ${m.height}`);
    for (const g of geoms(m.body('t_1'))) {
      if (g.euler[0] !== 0 || g.euler[1] !== 0) continue; // the carton's roof, inside the carton's footprint
      assert.ok(horizontalReach(g) <= m.radius + 1e-4, `${g.name} reaches ${horizontalReach(g)} past radius ${m.radius}`);
    }
  }
});

test('masses (100 x collision volume) are within a factor 2.5 of LIBERO', () => {
  for (const [category, kg] of Object.entries(LIBERO_MASS)) {
    const mass = 100 * collisionGeoms(objectModel(category)).reduce((s, g) => s + volume(g), 0);
    assert.ok(mass < 2.5 * kg && mass > kg / 2.5, `${category}: ${(mass * 1000).toFixed(1)} g vs LIBERO ${kg * 1000} g`);
  }
});

// The Panda gripper (src/sim/mjcf/panda.ts): pads 0.44 cm below to 1.16 cm above the grip site, finger boxes down
// to 0.64 cm below it, 8 cm between the open pads, the hand's box 3.9 cm above the grip site.
const PAD = [-0.0044, 0.0116];
const FINGER_BOTTOM = -0.0064;
const OPEN = 0.08;
const HAND_CLEARANCE = 0.035;

test('top grasps: the part between the pads fits the open gripper with room to spare, the pads touch it, the hand clears the top', () => {
  for (const [category, m] of OBJECTS) {
    const g = m.grasp;
    if (g?.style !== 'top') continue;
    const col = collisionGeoms(m);
    assert.ok(m.height - g.height <= HAND_CLEARANCE, `${category}: top ${m.height} is under the hand at grip ${g.height}`);
    // Everything the descending fingers pass must lie between them along the closing direction.
    const swept = col.filter((c) => zRange(c)[1] > g.height + FINGER_BOTTOM);
    const width = Math.max(...swept.map((c) => Math.abs(c.pos[0] * Math.cos(g.yaw) + c.pos[1] * Math.sin(g.yaw)) + halfExtentAlong(c, g.yaw)));
    assert.ok(2 * width <= OPEN - 0.008, `${category}: ${(2 * width * 100).toFixed(1)} cm across the fingers`);
    const gripped = col.filter((c) => zRange(c)[1] > g.height + PAD[0] + 0.004 && zRange(c)[0] < g.height + PAD[1] - 0.004);
    assert.ok(gripped.length > 0, `${category}: nothing between the pads at ${g.height}`);
    assert.ok(g.height + FINGER_BOTTOM > 0.001, `${category}: fingers would hit the table`);
  }
});

test('rim grasps: a thin wall crosses the closing direction at rimRadius on both sides, with room for the inner finger', () => {
  let rims = 0;
  for (const [category, m] of OBJECTS) {
    const g = m.grasp;
    if (g?.style !== 'rim') continue;
    rims++;
    assert.ok(g.rimRadius !== undefined && g.rimRadius >= 0.03, `${category}: inner finger needs a 3 cm radius`);
    assert.ok(m.height - g.height <= HAND_CLEARANCE, `${category}: rim under the hand`);
    for (const side of [1, -1]) {
      const p = [side * g.rimRadius! * Math.cos(g.yaw), side * g.rimRadius! * Math.sin(g.yaw)];
      const wall = collisionGeoms(m).find((c) => {
        if (c.type !== 'box') return false;
        const [dx, dy] = [p[0] - c.pos[0], p[1] - c.pos[1]];
        const [lx, ly] = [dx * Math.cos(c.euler[2]) + dy * Math.sin(c.euler[2]), -dx * Math.sin(c.euler[2]) + dy * Math.cos(c.euler[2])];
        const [z0, z1] = zRange(c);
        return Math.abs(lx) <= c.size[0] && Math.abs(ly) <= c.size[1] && z0 <= g.height + PAD[0] && z1 >= g.height + 0.005;
      });
      assert.ok(wall, `${category}: no wall under the pads at ${p.map((v) => v.toFixed(3))}`);
      assert.ok(2 * halfExtentAlong(wall!, g.yaw) < 0.02, `${category}: wall too thick to straddle`);
    }
  }
  assert.ok(rims >= 4, 'bowl and mugs are rim-grasped');
});

test('names inside an asset all carry the instance prefix', () => {
  for (const [category, m] of OBJECTS) {
    const names = [...m.body('foo_1').matchAll(/\sname="([^"]*)"/g)].map((x) => x[1]);
    assert.ok(names.length > 0, category);
    for (const n of names) assert.ok(n.startsWith('foo_1_'), `${category}: ${n}`);
    assert.is(new Set(names).size, names.length, `${category}: duplicate names`);
  }
  assert.ok(objectModel('basket').body('basket_1').includes('name="basket_1_contain_region"'));
});

test('objectModel names an unknown category and lists the known ones', () => {
  assert.is(objectModel('moka_pot'), OBJECTS.get('moka_pot'));
  try {
    objectModel('nope');
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, RiptideError);
    const msg = (e as Error).message;
    assert.ok(msg.includes("'nope'"), msg);
    for (const c of OBJECTS.keys()) assert.ok(msg.includes(c), `${c} listed`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// In the simulator.

interface Placed {
  name: string;
  model: AssetModel;
  x: number;
  y: number;
}

/** Rows across the table in front of the robot (its hand hangs near x -0.21); a new scene when the table is full. */
function tableLoads(): Placed[][] {
  const [x0, x1, y0, y1, gap] = [-0.08, 0.49, -0.58, 0.58, 0.015];
  const scenes: Placed[][] = [[]];
  let [rowX, rowDepth, y] = [x0, 0, y0];
  for (const [category, model] of OBJECTS) {
    const d = 2 * model.radius + gap;
    if (y + d > y1) [rowX, rowDepth, y] = [rowX + rowDepth, 0, y0];
    if (rowX + d > x1) {
      scenes.push([]);
      [rowX, rowDepth, y] = [x0, 0, y0];
    }
    scenes[scenes.length - 1].push({ name: `${category}_1`, model, x: rowX + d / 2, y: y + d / 2 });
    y += d;
    rowDepth = Math.max(rowDepth, d);
  }
  return scenes;
}

function bodyXml(p: Placed, z = TABLE_TOP_Z + DROP): string {
  return `<body name="${p.name}" pos="${p.x} ${p.y} ${z}"><freejoint name="${p.name}_joint"/>${p.model.body(p.name)}</body>`;
}

function idle(env: VecEnv): Float32Array {
  return new Float32Array(env.numEnvs * 7).map((_, i) => (i % 7 === 6 ? -1 : 0));
}

test('every object settles upright on the table within one simulated second, without a MuJoCo warning', () => {
  const loads = tableLoads();
  assert.ok(loads.length <= 3, `${loads.length} scenes`);
  for (const load of loads) {
    const env = VecEnv.create({ mjcf: tabletopScene({ worldbody: load.map((p) => bodyXml(p)).join('') }), numEnvs: 1, objects: load.map((p) => p.name) });
    const a = idle(env);
    for (let t = 0; t < SECOND; t++) env.step(a);
    assert.is(env.warnings(0), 0, env.warningText(0));
    const poses = new Float64Array(load.length * 7);
    env.objectPoses(poses);
    load.forEach((p, i) => {
      const [x, y, z, qx, qy] = poses.subarray(7 * i, 7 * i + 5);
      assert.ok(Math.abs(z - TABLE_TOP_Z) < 0.01, `${p.name} rests at z ${z.toFixed(4)}`);
      assert.ok(Math.hypot(x - p.x, y - p.y) < 0.01, `${p.name} slid to ${x.toFixed(3)}, ${y.toFixed(3)}`);
      const zAxisZ = 1 - 2 * (qx * qx + qy * qy);
      assert.ok(zAxisZ > Math.cos((5 * Math.PI) / 180), `${p.name} tilted ${((Math.acos(Math.min(1, zAxisZ)) * 180) / Math.PI).toFixed(1)} deg`);
      assert.ok(env.inContact(0, env.bodyId(p.name), env.bodyId('table')), `${p.name} touches the table`);
    });
    env.close();
  }
});

test("a can dropped into the basket lands on its floor inside contain_region (LIBERO's In rule)", () => {
  const basket: Placed = { name: 'basket_1', model: objectModel('basket'), x: 0.1, y: 0.1 };
  const can: Placed = { name: 'tomato_sauce_1', model: objectModel('tomato_sauce'), x: 0.12, y: 0.08 };
  const mjcf = tabletopScene({ worldbody: bodyXml(basket) + bodyXml(can, TABLE_TOP_Z + basket.model.height + 0.02) });
  const env = VecEnv.create({ mjcf, numEnvs: 1, objects: [basket.name, can.name] });
  const a = idle(env);
  for (let t = 0; t < SECOND; t++) env.step(a);
  assert.is(env.warnings(0), 0, env.warningText(0));
  const region = basket.model.sites[0];
  const site = new Float64Array(12);
  env.sitePose(0, env.siteId('basket_1_contain_region'), site);
  const poses = new Float64Array(14);
  env.objectPoses(poses);
  for (let i = 0; i < 3; i++) {
    const d = poses[7 + i] - site[i];
    const lo = -region.size[i] - (i === 2 ? 0.01 : 0);
    assert.ok(d > lo && d < region.size[i], `can origin ${i === 2 ? 'z' : i === 0 ? 'x' : 'y'} ${d.toFixed(4)} from the region centre`);
  }
  assert.ok(env.inContact(0, env.bodyId(can.name), env.bodyId(basket.name)), 'the can rests in the basket');
  assert.not.ok(env.inContact(0, env.bodyId(can.name), env.bodyId('table')), 'the basket floor holds it off the table');
  env.close();
});

/** World angle of the hand's y axis (the fingers' closing direction) from its quaternion xyzw. */
function handYaw(q: ArrayLike<number>): number {
  const [x, y, z, w] = [q[0], q[1], q[2], q[3]];
  return Math.atan2(1 - 2 * (x * x + z * z), 2 * (x * y - w * z));
}

const clamp = (v: number) => (v > 1 ? 1 : v < -1 ? -1 : v);

/**
 * Puts the object under the hand turned so its grasp yaw lies along the fingers, then moves the grip site to the
 * hint (above it, down, close, up 20 cm) with the OSC actions a scripted expert would send. Returns the object's
 * final pose (pos + quat xyzw).
 */
function pickUp(model: AssetModel): Float64Array {
  const robot = new Float64Array(ROBOT_STATE.size);
  const probe = VecEnv.create({ mjcf: tabletopScene(), numEnvs: 1 });
  probe.robotState(robot);
  probe.close();
  const home = robot.slice(ROBOT_STATE.eefQuat, ROBOT_STATE.eefQuat + 4);
  const g = model.grasp!;
  const fingers = handYaw(home);
  const yaw = fingers - g.yaw;
  const [ox, oy] = [-0.08, 0];
  const body = `<body name="o_1" pos="${ox} ${oy} ${TABLE_TOP_Z}" quat="${Math.cos(yaw / 2)} 0 0 ${Math.sin(yaw / 2)}">` + `<freejoint name="o_1_joint"/>${model.body('o_1')}</body>`;
  const env = VecEnv.create({ mjcf: tabletopScene({ worldbody: body }), numEnvs: 1, objects: ['o_1'] });
  const rim = g.style === 'rim' ? g.rimRadius! : 0;
  const [gx, gy, gz] = [ox + rim * Math.cos(fingers), oy + rim * Math.sin(fingers), TABLE_TOP_Z + g.height];
  const a = new Float32Array(7);
  // [x, y, z, gripper, most steps]: moves end early once the grip site is within 4 mm of the target.
  const moves: [number, number, number, number, number][] = [
    [gx, gy, TABLE_TOP_Z + Math.max(g.height, model.height) + 0.05, -1, 60],
    [gx, gy, gz, -1, 40],
    [gx, gy, gz, 1, 12],
    [gx, gy, gz + 0.2, 1, 40],
  ];
  for (const [x, y, z, grip, steps] of moves) {
    for (let t = 0; t < steps; t++) {
      env.robotState(robot);
      if (grip < 0 && Math.hypot(x - robot[0], y - robot[1], z - robot[2]) < 0.004) break;
      a.set([x - robot[0], y - robot[1], z - robot[2]].map((d) => clamp((d / 0.05) * 1.6)));
      const rot = orientationError(home, robot.subarray(ROBOT_STATE.eefQuat, ROBOT_STATE.eefQuat + 4));
      a.set(rot.map((r) => clamp(r / 0.5)), 3);
      a[6] = grip;
      env.step(a);
    }
  }
  assert.is(env.warnings(0), 0, env.warningText(0));
  const pose = new Float64Array(7);
  env.objectPoses(pose);
  env.close();
  return pose;
}

test('the Panda lifts every object that has a grasp hint 15 cm off the table, level, holding it by the hint', () => {
  for (const [category, model] of OBJECTS) {
    if (!model.grasp) continue;
    const p = pickUp(model);
    assert.ok(p[2] - TABLE_TOP_Z > 0.15, `${category} lifted only ${((p[2] - TABLE_TOP_Z) * 100).toFixed(1)} cm`);
    assert.ok(1 - 2 * (p[3] * p[3] + p[4] * p[4]) > Math.cos((10 * Math.PI) / 180), `${category} swung in the grip`);
  }
});

test.run();
