// Fixtures and arenas as the task scenes use them: each fixture on LIBERO's table next to the Panda steps one second
// without a MuJoCo warning; its joints hold the open/closed (on/off) states the :init samplers write; an object set
// on or in each region site settles where LIBERO's On/In rules (spec/libero.md §3) accept it; each arena puts the
// robot's grip site a reachable height above its work surface, and an object resting there is On a table zone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { RiptideError } from '../../src/errors.ts';
import { ROBOT_STATE, VecEnv } from '../../src/sim/vec-env.ts';
import { agentviewCameraXml, composeScene } from '../../src/sim/mjcf/scene.ts';
import { ARENAS, SURFACES, arenaFor } from '../../src/tasks/assets/arenas.ts';
import { FIXTURES, fixtureModel } from '../../src/tasks/assets/fixtures.ts';
import { OBJECT_CONTACT, type ArticulatedJoint, type AssetModel, type RegionSite, type Vec3 } from '../../src/tasks/assets/types.ts';

const TABLE = ARENAS.get('libero_tabletop_manipulation')!;
const FIXTURE_POS: Vec3 = [0.1, 0, 0.9];
const INSTANCE = 'f_1';

/** An object set on (or in) a region site: its collision geom, with the body origin at its lowest point. */
interface Probe {
  site: string;
  rule: 'on' | 'in';
  geom: string;
}
const box = (hx: number, hy: number, hz: number): string => `<geom type="box" size="${hx} ${hy} ${hz}" pos="0 0 ${hz}" ${OBJECT_CONTACT}/>`;
const BOWL = box(0.045, 0.045, 0.024);
const SMALL = box(0.04, 0.04, 0.02);
const MUG = box(0.045, 0.045, 0.05);
const MOKA_POT = box(0.04, 0.04, 0.075);
const BOOK = box(0.0145, 0.055, 0.067);
const BOTTLE = `<geom type="cylinder" size="0.0215 0.0785" pos="0 0 0.0785" ${OBJECT_CONTACT}/>`;

const PROBES: Record<string, Probe[]> = {
  wooden_cabinet: [
    { site: 'top_side', rule: 'on', geom: SMALL },
    { site: 'top_region', rule: 'in', geom: BOWL },
    { site: 'middle_region', rule: 'in', geom: BOWL },
    { site: 'bottom_region', rule: 'in', geom: BOWL },
  ],
  microwave: [
    { site: 'heating_region', rule: 'in', geom: MUG },
    { site: 'top_side', rule: 'on', geom: SMALL },
  ],
  flat_stove: [{ site: 'cook_region', rule: 'on', geom: MOKA_POT }],
  wine_rack: [{ site: 'top_region', rule: 'on', geom: BOTTLE }],
  desk_caddy: [
    { site: 'back_contain_region', rule: 'in', geom: BOOK },
    { site: 'front_contain_region', rule: 'in', geom: BOOK },
    { site: 'left_contain_region', rule: 'in', geom: SMALL },
    { site: 'right_contain_region', rule: 'in', geom: SMALL },
  ],
};
PROBES.white_cabinet = PROBES.wooden_cabinet;

/** Point sites the scripted experts steer by (not BDDL regions, so not in the model's `sites`). */
const EXPERT_SITES: Record<string, string[]> = {
  wooden_cabinet: ['top_level_handle', 'middle_level_handle', 'bottom_level_handle'],
  white_cabinet: ['top_level_handle', 'middle_level_handle', 'bottom_level_handle'],
  microwave: ['door_handle'],
  flat_stove: ['knob_tip', 'knob_peg'],
};

/** Env 0 holds every joint closed / off, env 1 open / on (values inside LIBERO's :init ranges). */
const CLOSED: Record<ArticulatedJoint['kind'], number> = { drawer: 0.003, door: -0.002, knob: 0 };
const OPENED: Record<ArticulatedJoint['kind'], number> = { drawer: -0.15, door: -1.58, knob: 1.0 };

const IDLE = (numEnvs: number): Float32Array => new Float32Array(numEnvs * 7).map((_, i) => (i % 7 === 6 ? -1 : 0));

function stepSeconds(env: VecEnv, seconds: number): void {
  const a = IDLE(env.numEnvs);
  for (let t = 0; t < seconds * 20; t++) env.step(a);
}

/** World position of a site, and whether its axes are the world axes (fixtures here stand at yaw 0). */
function siteBox(env: VecEnv, k: number, site: RegionSite): { pos: Vec3; rotationIsIdentity: boolean } {
  const out = new Float64Array(12);
  env.sitePose(k, env.siteId(`${INSTANCE}_${site.name}`), out);
  const r = Array.from(out.subarray(3, 12));
  const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1].every((v, i) => Math.abs(r[i] - v) < 1e-6);
  return { pos: [out[0], out[1], out[2]], rotationIsIdentity: identity };
}

/** LIBERO's On(A, site) window on the body origin (contact checked separately). */
function onWindow(d: Vec3, h: Vec3): boolean {
  return Math.abs(d[0]) < h[0] && Math.abs(d[1]) < h[1] && d[2] > h[2] - 0.005 && d[2] < h[2] + 0.1;
}
/** LIBERO's In(A, site): origin strictly inside the box, the lower bound lowered by 1 cm. */
function inBox(d: Vec3, h: Vec3): boolean {
  return Math.abs(d[0]) < h[0] && Math.abs(d[1]) < h[1] && d[2] > -h[2] - 0.01 && d[2] < h[2];
}

function fixtureScene(model: AssetModel, probes: Probe[]): string {
  // Probes start parked on the floor, far from everything; the test moves them into place through the state.
  const probeXml = probes
    .map((p, i) => `<body name="probe_${i}" pos="${2 + 0.3 * i} 2 0.001"><freejoint name="probe_${i}"/>${p.geom}</body>`)
    .join('');
  return composeScene({
    name: `fixture_${model.category}`,
    robot: TABLE.robot,
    worldbody:
      TABLE.worldbody('table') +
      `<body name="${INSTANCE}" mocap="true" pos="${FIXTURE_POS.join(' ')}">${model.body(INSTANCE)}</body>` +
      probeXml,
  });
}

for (const [category, model] of FIXTURES) {
  test(`${category}: steps 1 s without warnings; joints hold their states; objects settle on/in its regions`, () => {
    const probes = PROBES[category];
    assert.ok(probes, `no probes for ${category}`);
    const env = VecEnv.create({ mjcf: fixtureScene(model, probes), numEnvs: 2, name: category, objects: probes.map((_, i) => `probe_${i}`) });
    const site = (name: string): RegionSite => model.sites.find((s) => s.name === name)!;

    // Every declared name is in the model (an unknown one throws rather than returning -1).
    for (const s of model.sites) assert.ok(env.siteId(`${INSTANCE}_${s.name}`) >= 0);
    for (const j of model.joints) {
      assert.ok(env.jointId(`${INSTANCE}_${j.name}`) >= 0);
      assert.ok(env.bodyId(`${INSTANCE}_${j.body}`) >= 0);
    }
    for (const s of model.sites) if (s.body) assert.ok(env.bodyId(`${INSTANCE}_${s.body}`) >= 0);
    for (const s of EXPERT_SITES[category] ?? []) {
      assert.ok(env.siteId(`${INSTANCE}_${s}`) >= 0);
      assert.ok(!model.sites.some((r) => r.name === s), `${s} is not a region`);
    }
    assert.throws(() => env.siteId(`${INSTANCE}_no_such_site`), /no site named/);

    for (let k = 0; k < 2; k++) {
      const state = env.getState(k);
      for (const j of model.joints) state[1 + env.jointQposAddress(`${INSTANCE}_${j.name}`)] = (k === 0 ? CLOSED : OPENED)[j.kind];
      env.reset(k, state);
      // Sites move with their drawers: read them after the joints are set, then drop each probe 2 mm above its
      // support (a region's floor for In, a surface site's top face for On).
      probes.forEach((p, i) => {
        const s = site(p.site);
        const { pos } = siteBox(env, k, s);
        const z = p.rule === 'in' ? pos[2] - s.size[2] + 0.002 : pos[2] + s.size[2] + 0.002;
        state.set([pos[0], pos[1], z, 1, 0, 0, 0], 1 + env.jointQposAddress(`probe_${i}`));
      });
      env.reset(k, state);
    }

    stepSeconds(env, 1);

    const q = new Float64Array(7);
    const poses = new Float64Array(2 * probes.length * 7);
    env.objectPoses(poses);
    const fixtureBody = env.bodyId(INSTANCE);
    for (let k = 0; k < 2; k++) {
      assert.is(env.warnings(k), 0, `${category} env ${k}: ${env.warningText(k)}`);
      for (const j of model.joints) {
        env.jointQpos(k, env.jointId(`${INSTANCE}_${j.name}`), q);
        const label = `${category} env ${k} joint ${j.name} q=${q[0].toFixed(4)}`;
        if (k === 0) assert.ok(j.kind === 'knob' ? j.isOff!(q[0]) : j.isClosed!(q[0]), `${label}: closed/off`);
        else assert.ok(j.kind === 'knob' ? j.isOn!(q[0]) : j.isOpen!(q[0]), `${label}: open/on`);
      }
      probes.forEach((p, i) => {
        const s = site(p.site);
        const { pos, rotationIsIdentity } = siteBox(env, k, s);
        assert.ok(rotationIsIdentity);
        const o = poses.subarray((k * probes.length + i) * 7);
        const d: Vec3 = [o[0] - pos[0], o[1] - pos[1], o[2] - pos[2]];
        const label = `${category} env ${k}: probe on ${p.site} at d=(${d.map((x) => x.toFixed(4)).join(', ')})`;
        assert.ok(Math.abs(o[6]) > 0.99, `${label} stays upright`);
        if (p.rule === 'in') assert.ok(inBox(d, s.size), `${label}: In`);
        else {
          assert.ok(onWindow(d, s.size), `${label}: On window`);
          assert.ok(env.inContact(k, env.bodyId(`probe_${i}`), fixtureBody), `${label}: touches the fixture`);
        }
      });
    }
    env.close();
  });
}

/** Drives the grip site to (x, y, z), gripper closed (+1) or open (-1): a P-law on OSC position deltas, as the
 *  experts use; the hand keeps pointing down with its fingers across y. */
function moveTo(env: VecEnv, target: Vec3, maxSteps: number, gain = 10, grip = 1): void {
  const s = new Float64Array(ROBOT_STATE.size);
  const a = new Float32Array(7);
  a[6] = grip;
  for (let t = 0; t < maxSteps; t++) {
    env.robotState(s);
    const e = [0, 1, 2].map((i) => target[i] - s[ROBOT_STATE.eefPos + i]);
    if (Math.hypot(...e) < 0.003) return;
    for (let i = 0; i < 3; i++) a[i] = Math.max(-1, Math.min(1, e[i] * gain));
    env.step(a);
  }
}

function closeFingers(env: VecEnv): void {
  const a = new Float32Array(7);
  a[6] = 1;
  for (let t = 0; t < 12; t++) env.step(a);
}

function jointQ(env: VecEnv, joint: string): number {
  const q = new Float64Array(7);
  env.jointQpos(0, env.jointId(`${INSTANCE}_${joint}`), q);
  return q[0];
}

function sitePos(env: VecEnv, site: string): Vec3 {
  const out = new Float64Array(12);
  env.sitePose(0, env.siteId(`${INSTANCE}_${site}`), out);
  return [out[0], out[1], out[2]];
}

test('the Panda, pointing down, works the fixtures: the middle drawer by its fin, the knob both ways, the door shut', () => {
  const scene = (category: string): VecEnv => VecEnv.create({ mjcf: fixtureScene(fixtureModel(category), []), numEnvs: 1, name: category });
  const [fx, , fz] = FIXTURE_POS;

  // Middle drawer (the top one above it): open fingers come down either side of its fin, pinch it, pull it out,
  // push it back in past q = 0.
  const cab = scene('wooden_cabinet');
  const drawer = fixtureModel('wooden_cabinet').joints.find((j) => j.name === 'middle_level')!;
  const h = sitePos(cab, 'middle_level_handle');
  moveTo(cab, [h[0], h[1], h[2] + 0.2], 60, 20, -1);
  moveTo(cab, h, 40, 10, -1);
  closeFingers(cab);
  moveTo(cab, [h[0] - 0.155, h[1], h[2]], 60);
  assert.ok(drawer.isOpen!(jointQ(cab, 'middle_level')), `drawer pulled open: q=${jointQ(cab, 'middle_level')}`);
  moveTo(cab, [h[0] + 0.006, h[1], h[2]], 60);
  assert.ok(drawer.isClosed!(jointQ(cab, 'middle_level')), `drawer pushed shut: q=${jointQ(cab, 'middle_level')}`);
  for (const other of ['top_level', 'bottom_level']) assert.ok(Math.abs(jointQ(cab, other)) < 0.002, `${other} stays where it was`);
  assert.is(cab.warnings(0), 0, cab.warningText(0));
  cab.close();

  // Stove knob: the closed fingers push the pointer toward -y past its tipping point and it stays on; then, from
  // q = 0.8, they press the peg (right of the axis then) down until the knob sits at its off stop.
  const stove = scene('flat_stove');
  const knob = fixtureModel('flat_stove').joints[0];
  assert.ok(!knob.isOn!(jointQ(stove, 'button')));
  const tip = sitePos(stove, 'knob_tip');
  moveTo(stove, [tip[0], tip[1] + 0.035, tip[2] + 0.1], 40, 20);
  moveTo(stove, [tip[0], tip[1] + 0.035, tip[2]], 40);
  moveTo(stove, [tip[0], tip[1] - 0.03, tip[2]], 40);
  moveTo(stove, [tip[0], tip[1] - 0.03, tip[2] + 0.1], 30);
  stepSeconds(stove, 1);
  assert.ok(knob.isOn!(jointQ(stove, 'button')), `knob on: q=${jointQ(stove, 'button')}`);
  const state = stove.getState(0);
  state[1 + stove.jointQposAddress(`${INSTANCE}_button`)] = 0.8;
  stove.reset(0, state);
  const peg = sitePos(stove, 'knob_peg');
  // Fingers 4.2 cm across y: centred 1.2 cm beyond the peg, they cover it and stay off the hub.
  moveTo(stove, [peg[0], peg[1] + 0.012, peg[2] + 0.1], 40, 20);
  moveTo(stove, [peg[0], peg[1] + 0.012, peg[2] - 0.03], 60);
  assert.ok(knob.isOff!(jointQ(stove, 'button')), `knob off: q=${jointQ(stove, 'button')}`);
  assert.is(stove.warnings(0), 0, stove.warningText(0));
  stove.close();

  // Microwave door, open at -1.58 (LIBERO-10 task 9): pushed round from its outer side until it latches shut.
  const mw = scene('microwave');
  const door = fixtureModel('microwave').joints[0];
  const mwState = mw.getState(0);
  mwState[1 + mw.jointQposAddress(`${INSTANCE}_microjoint`)] = -1.58;
  mw.reset(0, mwState);
  const hx = fx - 0.123;
  const doorMid = fz + (fixtureModel('microwave').height - 0.015) / 2; // the door spans floor to top
  moveTo(mw, [hx - 0.2, 0.27, fz + 0.45], 40, 20);
  for (const [dx, y] of [[-0.2, 0.27], [-0.2, 0.15], [-0.15, 0.05], [-0.1, -0.02], [-0.04, -0.05]]) moveTo(mw, [hx + dx, y, doorMid], 40);
  assert.ok(door.isClosed!(jointQ(mw, 'microjoint')), `door shut: q=${jointQ(mw, 'microjoint')}`);
  assert.is(mw.warnings(0), 0, mw.warningText(0));
  mw.close();
});

test('fixtureModel names an unknown category, the known ones, and where surfaces live', () => {
  assert.is(fixtureModel('microwave'), FIXTURES.get('microwave'));
  try {
    fixtureModel('short_fridge');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, RiptideError);
    assert.match((e as Error).message, /'short_fridge'/);
    for (const c of FIXTURES.keys()) assert.match((e as Error).message, c);
  }
  assert.throws(() => fixtureModel('kitchen_table'), /work surface.*SURFACES/);
  for (const m of FIXTURES.values()) assert.is(m.kind, 'fixture');
});

test('arenaFor is case-insensitive and names the file and the supported classes otherwise', () => {
  assert.is(arenaFor('Libero_Kitchen_Tabletop_Manipulation'), ARENAS.get('libero_kitchen_tabletop_manipulation'));
  try {
    arenaFor('Libero_Coffee_Table_Manipulation', 'tasks/x.bddl');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, RiptideError);
    assert.match((e as Error).message, /^tasks\/x\.bddl: problem class 'Libero_Coffee_Table_Manipulation'/);
    for (const p of ARENAS.keys()) assert.match((e as Error).message, p);
  }
  assert.equal([...SURFACES.keys()].sort(), ['floor', 'kitchen_table', 'living_room_table', 'study_table', 'table']);
  for (const [category, a] of SURFACES) assert.is(a.surfaceCategory, category);
});

for (const [problem, arena] of ARENAS) {
  test(`${problem}: the grip site starts 0.1-0.5 m above the surface; an object rests On a zone there`, () => {
    const name = arena.surfaceCategory;
    const [ox, oy] = arena.offset;
    const zone = `<site name="zone" type="box" pos="${ox + 0.1} ${oy + 0.15} ${arena.zoneZ}" size="0.05 0.05 0.007"/>`;
    const env = VecEnv.create({
      mjcf: composeScene({
        name: problem,
        robot: arena.robot,
        worldbody:
          arena.worldbody(name) +
          agentviewCameraXml(arena.camera.pos, arena.camera.quat) +
          zone +
          `<body name="probe" pos="${ox + 0.1} ${oy + 0.15} ${arena.surfaceZ + 0.002}"><freejoint/>${SMALL}</body>`,
      }),
      numEnvs: 1,
      name: problem,
      objects: ['probe'],
    });
    assert.ok(env.bodyId(name) >= 0);
    const s = new Float64Array(ROBOT_STATE.size);
    env.robotState(s);
    const above = s[ROBOT_STATE.eefPos + 2] - arena.surfaceZ;
    assert.ok(above > 0.1 && above < 0.5, `grip site ${above.toFixed(3)} m above the surface`);
    assert.ok(s[ROBOT_STATE.eefPos] > arena.robot.base[0] + 0.2, 'grip site in front of the base');
    assert.is(env.contactCount(0), 0, 'nothing touches at reset');

    stepSeconds(env, 1);
    assert.is(env.warnings(0), 0, env.warningText(0));
    const o = new Float64Array(7);
    env.objectPoses(o);
    assert.ok(Math.abs(o[2] - arena.surfaceZ) < 0.002, `probe rests on the surface: z ${o[2]}`);
    const zonePose = new Float64Array(12);
    env.sitePose(0, env.siteId('zone'), zonePose);
    assert.ok(onWindow([o[0] - zonePose[0], o[1] - zonePose[1], o[2] - zonePose[2]], [0.05, 0.05, 0.007]), 'On(probe, zone)');
    env.close();
  });
}

test.run();
