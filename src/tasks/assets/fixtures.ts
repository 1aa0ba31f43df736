// LIBERO's fixtures (cabinets, microwave, stove, wine rack, desk caddy) written from boxes and cylinders, with the
// region sites and articulated joints the predicates, :init samplers and scripted experts read (types.ts has the
// conventions). The scene generator wraps each one in a mocap body so every parallel env can place it on its own;
// drawers, the microwave door and the stove knob are child bodies with their own joints.
//
// Why the parts do not jam: the mocap root counts as welded to the world, so MuJoCo's parent-child contact filter
// does not apply to its children. Instead every moving part stays clear of its fixture's static parts over its
// whole joint range (drawer backs 3 mm, door 3 mm, knob 2 mm, drawer sides 1 mm; sibling drawers 4 mm apart) and
// the joint limits are the stops; a push hard past a soft limit meets the carcass as a real stop would.
import { RiptideError } from '../../errors.ts';
import { SURFACES } from './arenas.ts';
import { OBJECT_CONTACT, type ArticulatedJoint, type AssetModel, type RegionSite, type Vec3 } from './types.ts';

const fmt = (v: readonly number[]): string => v.map((x) => +x.toFixed(5)).join(' ');

/** Collision parameters LIBERO gives the microwave (spec/libero.md §6); friction stays MuJoCo's default. */
const MICROWAVE_CONTACT = 'solref="0.02 1" solimp="0.8 0.9 0.01" density="100"';

/**
 * Writes the geoms of one fixture instance: collision geoms `${name}_g${i}` (group 0) each with a visual twin
 * `${name}_v${i}` (group 1, no contact, no mass), as types.ts asks.
 */
class GeomWriter {
  #n = 0;
  constructor(readonly name: string) {}

  /** A collision box and its visual twin. */
  box(pos: Vec3, half: Vec3, rgba: string, contact: string = OBJECT_CONTACT): string {
    const i = this.#n++;
    const shape = `type="box" pos="${fmt(pos)}" size="${fmt(half)}"`;
    return (
      `<geom name="${this.name}_g${i}" ${shape} group="0" rgba="0.5 0.5 0.5 0.3" ${contact}/>` +
      `<geom name="${this.name}_v${i}" ${shape} group="1" contype="0" conaffinity="0" mass="0" rgba="${rgba}"/>`
    );
  }

  /** A visual-only box (trim, windows, buttons). */
  trim(pos: Vec3, half: Vec3, rgba: string): string {
    const i = this.#n++;
    return `<geom name="${this.name}_v${i}" type="box" pos="${fmt(pos)}" size="${fmt(half)}" group="1" contype="0" conaffinity="0" mass="0" rgba="${rgba}"/>`;
  }

  /** A collision cylinder between two points and its visual twin. */
  rod(from: Vec3, to: Vec3, radius: number, rgba: string, contact: string = OBJECT_CONTACT): string {
    const i = this.#n++;
    const shape = `type="cylinder" fromto="${fmt([...from, ...to])}" size="${fmt([radius])}"`;
    return (
      `<geom name="${this.name}_g${i}" ${shape} group="0" rgba="0.5 0.5 0.5 0.3" ${contact}/>` +
      `<geom name="${this.name}_v${i}" ${shape} group="1" contype="0" conaffinity="0" mass="0" rgba="${rgba}"/>`
    );
  }
}

/** The sites of `body` (undefined = the root body) as MJCF; hidden by the renderer (sites are never drawn). */
function sitesXml(name: string, sites: readonly RegionSite[], body?: string): string {
  return sites
    .filter((s) => s.body === body)
    .map(
      (s) =>
        `<site name="${name}_${s.name}" type="box" pos="${fmt(s.pos)}" size="${fmt(s.size)}"` +
        (s.quat ? ` quat="${fmt(s.quat)}"` : '') +
        ` group="3" rgba="0.2 0.8 0.2 0.3"/>`,
    )
    .join('');
}

/** A thin box site whose top face is flush with a support surface at height `top`: an object resting there has
 *  d_z = h_z, 5 mm above the lower bound of LIBERO's On window (h_z - 0.005, h_z + 0.10). */
function surfaceSite(name: string, center: [number, number], half: [number, number], top: number): RegionSite {
  const hz = 0.005;
  return { name, pos: [center[0], center[1], top - hz], size: [half[0], half[1], hz] };
}

// ---------------------------------------------------------------------------------------------------------------
// Cabinets (wooden_cabinet, white_cabinet): carcass x [-0.1275, 0.1275] (front open at -x), y [-0.11, 0.11],
// z [0, 0.22] of 1 cm panels; interior x [-0.1275, 0.1175], y [-0.10, 0.10], z [0.01, 0.21], split into three
// 6.67 cm bays. Each drawer body sits at the bottom of its bay (x = y = 0 at q = 0); its slide axis is +x so
// q < 0 pulls it out toward the robot. Drawer frame (z from the bay bottom): front panel x [-0.1275, -0.1155],
// tray floor top z 0.008, walls up to z 0.060, interior x [-0.1155, 0.0985] x y [-0.091, 0.091]; handle bar
// x [-0.1655, -0.1575] (3 cm behind it for a finger), y [-0.07, 0.07], at mid bay height.
const CAB_HX = 0.1275;
const CAB_HY = 0.11;
const CAB_H = 0.22;
const CAB_T = 0.01;
const BAY = (CAB_H - 2 * CAB_T) / 3;
const DRAWER_GAP = 0.002; // above and below each drawer inside its bay
// MJCF (and so qpos) order top, middle, bottom as LIBERO's; `bay` counts from the lowest.
const DRAWERS = [
  { name: 'top_level', bay: 2 },
  { name: 'middle_level', bay: 1 },
  { name: 'bottom_level', bay: 0 },
] as const;
const DRAWER_REGION: Record<(typeof DRAWERS)[number]['name'], string> = {
  bottom_level: 'bottom_region',
  middle_level: 'middle_region',
  top_level: 'top_region',
};
const TRAY_FLOOR_TOP = 0.008;
const TRAY_WALL_TOP = 0.06;

function drawerJoint(name: string): ArticulatedJoint {
  return {
    name,
    kind: 'drawer',
    body: name,
    isOpen: (q) => q < -0.14,
    isClosed: (q) => q > 0.0,
    initRanges: { open: [-0.16, -0.14], close: [0, 0.005] },
  };
}

function cabinet(category: string, carcassRgba: string, frontRgba: string): AssetModel {
  const handleRgba = '0.72 0.72 0.74 1';
  const sites: RegionSite[] = [
    surfaceSite('top_side', [0, 0], [0.1, 0.09], CAB_H),
    ...DRAWERS.map(
      ({ name }): RegionSite => ({ name: DRAWER_REGION[name], body: name, pos: [-0.0085, 0, TRAY_FLOOR_TOP + 0.03], size: [0.1, 0.083, 0.03] }),
    ),
  ];
  const body = (name: string): string => {
    const g = new GeomWriter(name);
    const inner = CAB_H / 2;
    let xml =
      g.box([0, 0, CAB_T / 2], [CAB_HX, CAB_HY, CAB_T / 2], carcassRgba) +
      g.box([0, 0, CAB_H - CAB_T / 2], [CAB_HX, CAB_HY, CAB_T / 2], carcassRgba) +
      g.box([0, CAB_HY - CAB_T / 2, inner], [CAB_HX, CAB_T / 2, inner - CAB_T], carcassRgba) +
      g.box([0, -CAB_HY + CAB_T / 2, inner], [CAB_HX, CAB_T / 2, inner - CAB_T], carcassRgba) +
      g.box([CAB_HX - CAB_T / 2, 0, inner], [CAB_T / 2, CAB_HY - CAB_T, inner - CAB_T], carcassRgba) +
      sitesXml(name, sites);
    const zc = BAY / 2;
    const wallHalf = (TRAY_WALL_TOP - TRAY_FLOOR_TOP) / 2;
    const wallZ = TRAY_FLOOR_TOP + wallHalf;
    for (const { name: d, bay } of DRAWERS) {
      xml +=
        `<body name="${name}_${d}" pos="0 0 ${fmt([CAB_T + bay * BAY])}">` +
        `<inertial pos="-0.0055 0 0.03" mass="3" diaginertia="0.011 0.014 0.023"/>` +
        `<joint name="${name}_${d}" type="slide" axis="1 0 0" limited="true" range="-0.16 0.01" damping="50"/>` +
        // front panel, flush with the carcass front at q = 0
        g.box([-0.1215, 0, zc], [0.006, 0.099, zc - DRAWER_GAP], frontRgba) +
        // tray: floor, back wall (3 mm short of the carcass back at q = +0.01), side walls
        g.box([-0.0055, 0, (DRAWER_GAP + TRAY_FLOOR_TOP) / 2], [0.11, 0.097, (TRAY_FLOOR_TOP - DRAWER_GAP) / 2], carcassRgba) +
        g.box([0.1015, 0, wallZ], [0.003, 0.097, wallHalf], carcassRgba) +
        g.box([-0.0085, 0.094, wallZ], [0.107, 0.003, wallHalf], carcassRgba) +
        g.box([-0.0085, -0.094, wallZ], [0.107, 0.003, wallHalf], carcassRgba) +
        // handle: two standoffs 3 cm long and a bar across them
        g.box([-0.1425, 0.055, zc], [0.015, 0.005, 0.005], handleRgba) +
        g.box([-0.1425, -0.055, zc], [0.015, 0.005, 0.005], handleRgba) +
        g.box([-0.1615, 0, zc], [0.004, 0.07, 0.006], handleRgba) +
        sitesXml(name, sites, d) +
        `</body>`;
    }
    return xml;
  };
  return {
    category,
    kind: 'fixture',
    body,
    height: CAB_H,
    radius: Math.hypot(0.1655, CAB_HY),
    sites,
    joints: DRAWERS.map(({ name }) => drawerJoint(name)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Microwave: overall x [-0.133, 0.13] (door included), y [-0.1725, 0.1725], z [0, 0.19]. Carcass x [-0.11, 0.13]
// with a control-panel block at y < -0.1125; cavity x [-0.11, 0.12], y [-0.1125, 0.1625], z [0.015, 0.175]
// (16 cm high: a 13 cm mug fits with the door shut). Door body at the hinge (-0.123, 0.1725, 0.095), its panel
// x [-0.133, -0.113], 3 mm clear of the carcass; vertical axis +z: the panel runs from the hinge toward -y, so
// q < 0 swings its free edge toward the robot and round to the +y side. A vertical handle bar near the free edge
// (door frame y -0.2625) stands 2.5-3.5 cm out from the door face.
const MW_HY = 0.1725;
const MW_H = 0.19;
const MW_FLOOR = 0.015;
const MW_CEIL = 0.175;

function microwave(): AssetModel {
  const body = '0.82 0.82 0.84 1';
  const dark = '0.12 0.12 0.13 1';
  const sites: RegionSite[] = [
    { name: 'heating_region', pos: [0.005, 0.025, (MW_FLOOR + MW_CEIL) / 2], size: [0.1, 0.125, (MW_CEIL - MW_FLOOR) / 2] },
    surfaceSite('top_side', [0.01, 0], [0.11, 0.16], MW_H),
  ];
  const xml = (name: string): string => {
    const g = new GeomWriter(name);
    const c = MICROWAVE_CONTACT;
    const wallZ = (MW_FLOOR + MW_CEIL) / 2;
    const wallHalf = (MW_CEIL - MW_FLOOR) / 2;
    return (
      g.box([0.01, 0, MW_FLOOR / 2], [0.12, MW_HY, MW_FLOOR / 2], body, c) +
      g.box([0.01, 0, (MW_CEIL + MW_H) / 2], [0.12, MW_HY, (MW_H - MW_CEIL) / 2], body, c) +
      g.box([0.125, 0, wallZ], [0.005, MW_HY, wallHalf], body, c) +
      g.box([0.005, 0.1675, wallZ], [0.115, 0.005, wallHalf], body, c) +
      g.box([0.005, -0.1425, wallZ], [0.115, 0.03, wallHalf], body, c) +
      g.trim([-0.1105, -0.1425, wallZ], [0.0005, 0.025, 0.07], dark) +
      g.trim([-0.1115, -0.1425, 0.12], [0.0005, 0.012, 0.012], '0.7 0.7 0.7 1') +
      g.trim([-0.1115, -0.1425, 0.08], [0.0005, 0.012, 0.012], '0.7 0.7 0.7 1') +
      sitesXml(name, sites) +
      `<body name="${name}_microwave_door" pos="-0.123 ${MW_HY} ${wallZ}">` +
      `<inertial pos="-0.005 -0.1425 0" mass="0.6" diaginertia="0.0055 0.0015 0.0041"/>` +
      `<joint name="${name}_microjoint" type="hinge" axis="0 0 1" limited="true" range="-2.094 0" damping="0.5"/>` +
      g.box([0, -0.1425, 0], [0.01, 0.1425, 0.085], body, c) +
      g.trim([-0.0105, -0.13, 0], [0.0005, 0.095, 0.06], '0.15 0.15 0.17 0.9') +
      g.box([-0.0225, -0.2625, 0.05], [0.0125, 0.005, 0.005], '0.7 0.7 0.72 1', c) +
      g.box([-0.0225, -0.2625, -0.05], [0.0125, 0.005, 0.005], '0.7 0.7 0.72 1', c) +
      g.box([-0.04, -0.2625, 0], [0.005, 0.006, 0.065], '0.7 0.7 0.72 1', c) +
      `</body>`
    );
  };
  return {
    category: 'microwave',
    kind: 'fixture',
    body: xml,
    height: MW_H,
    radius: Math.hypot(0.133, MW_HY),
    sites,
    joints: [
      {
        name: 'microjoint',
        kind: 'door',
        body: 'microwave_door',
        isOpen: (q) => q < -1.3,
        isClosed: (q) => q > -0.005,
        initRanges: { open: [-2.094, -1.3], close: [-0.005, 0] },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Flat stove: base x, y [-0.095, 0.095], z [0, 0.04] with the burner plate on top (cook_region centred on it).
// Knob body at (-0.107, 0, 0.028), in front of the base: a hub and a fin 3.8 cm tall on a hinge along +x; pushing
// the fin toward -y turns it on (q > 0). Its centre of mass sits 3 cm from the axis, 0.25 rad toward +y of the
// fin, so gravity holds it at the off stop (q = -0.005, where LIBERO's "q < 0" reads off) below q = 0.25 and
// carries it on toward the 2.1 stop above: a detent, since damping 1 would otherwise leave it wherever it stops.
const STOVE_H = 0.04;
const KNOB_COM_ANGLE = 0.25;

function flatStove(): AssetModel {
  const sites: RegionSite[] = [{ name: 'cook_region', pos: [0, 0, STOVE_H - 0.0025], size: [0.075, 0.075, 0.0025] }];
  const xml = (name: string): string => {
    const g = new GeomWriter(name);
    const com: Vec3 = [0, 0.03 * Math.sin(KNOB_COM_ANGLE), 0.03 * Math.cos(KNOB_COM_ANGLE)];
    return (
      g.box([0, 0, STOVE_H / 2], [0.095, 0.095, STOVE_H / 2], '0.28 0.28 0.3 1') +
      g.trim([0, 0, STOVE_H + 0.0001], [0.09, 0.09, 0.0003], '0.04 0.04 0.04 1') +
      // LIBERO shows the burner only while the knob is on; alpha 0 = the off look, the renderer may raise it.
      `<geom name="${name}_burner" type="cylinder" pos="0 0 ${fmt([STOVE_H + 0.0006])}" size="0.0625 0.0003" group="1" contype="0" conaffinity="0" mass="0" rgba="0.9 0.05 0.05 0"/>` +
      sitesXml(name, sites) +
      `<body name="${name}_knob" pos="-0.107 0 0.028">` +
      `<inertial pos="${fmt(com)}" mass="0.2" diaginertia="0.0001 0.0001 0.0001"/>` +
      `<joint name="${name}_button" type="hinge" axis="1 0 0" limited="true" range="-0.005 2.1" damping="1" armature="0.01"/>` +
      g.rod([-0.01, 0, 0], [0.01, 0, 0], 0.012, '0.1 0.1 0.1 1') +
      g.box([0, 0, 0.019], [0.006, 0.004, 0.019], '0.1 0.1 0.1 1') +
      `</body>`
    );
  };
  return {
    category: 'flat_stove',
    kind: 'fixture',
    body: xml,
    height: STOVE_H,
    radius: Math.hypot(0.117, 0.095),
    sites,
    joints: [
      {
        name: 'button',
        kind: 'knob',
        body: 'knob',
        isOn: (q) => q >= 0.5,
        isOff: (q) => q < 0.0,
        initRanges: { turnon: [0.5, 2.1], turnoff: [-0.005, 0] },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Wine rack: base x [-0.135, 0.135], y [-0.125, 0.125]; four posts and a middle shelf carry a platform whose top
// is at z 0.215, with a 2 cm rim round a 12 x 12 cm well for an upright bottle, and a back board (+x) up to 0.33.
const RACK_TOP = 0.215;

function wineRack(): AssetModel {
  const dark = '0.4 0.2 0.1 1';
  const light = '0.74 0.58 0.38 1';
  const sites: RegionSite[] = [{ name: 'top_region', pos: [0, 0, RACK_TOP - 0.05], size: [0.06, 0.06, 0.05] }];
  const xml = (name: string): string => {
    const g = new GeomWriter(name);
    let s = g.box([0, 0, 0.0075], [0.135, 0.125, 0.0075], dark);
    for (const [x, y] of [[0.12, 0.11], [0.12, -0.11], [-0.12, 0.11], [-0.12, -0.11]]) {
      s += g.box([x, y, 0.1075], [0.01, 0.01, 0.0925], dark);
    }
    s +=
      g.box([0, 0, 0.105], [0.11, 0.1, 0.005], light) +
      g.box([0, 0, RACK_TOP - 0.0075], [0.135, 0.125, 0.0075], light) +
      g.box([0.065, 0, RACK_TOP + 0.01], [0.005, 0.07, 0.01], dark) +
      g.box([-0.065, 0, RACK_TOP + 0.01], [0.005, 0.07, 0.01], dark) +
      g.box([0, 0.065, RACK_TOP + 0.01], [0.06, 0.005, 0.01], dark) +
      g.box([0, -0.065, RACK_TOP + 0.01], [0.06, 0.005, 0.01], dark) +
      g.box([0.13, 0, (RACK_TOP + 0.33) / 2], [0.005, 0.125, (0.33 - RACK_TOP) / 2], dark) +
      sitesXml(name, sites);
    return s;
  };
  return { category: 'wine_rack', kind: 'fixture', body: xml, height: 0.33, radius: Math.hypot(0.135, 0.125), sites, joints: [] };
}

// ---------------------------------------------------------------------------------------------------------------
// Desk caddy: x [-0.075, 0.075], y [-0.215, 0.215], floor top z 0.01. Walls: back (+x) 0.17 high, front (-x)
// 0.08, ends (+-y) 0.12; dividers at y = +-0.078 (0.14 high) and x = 0 (0.11 high). Compartments: back
// x [0.003, 0.069] and front x [-0.069, -0.003] (both y [-0.075, 0.075], 6.6 cm wide), left y [0.081, 0.209]
// and right y [-0.209, -0.081]. "back" is local +x, "left" local +y (as LIBERO's asset): at yaw pi the back
// compartment is the one nearest the robot.
function deskCaddy(): AssetModel {
  const rgba = '0.56 0.46 0.36 1';
  const floor = 0.01;
  const region = (name: string, x: number, y: number, hx: number, hy: number): RegionSite => ({
    name,
    pos: [x, y, floor + 0.06],
    size: [hx, hy, 0.06],
  });
  const sites: RegionSite[] = [
    region('back_contain_region', 0.036, 0, 0.028, 0.062),
    region('front_contain_region', -0.036, 0, 0.028, 0.062),
    region('left_contain_region', 0, 0.145, 0.06, 0.058),
    region('right_contain_region', 0, -0.145, 0.06, 0.058),
  ];
  const wall = (g: GeomWriter, x: [number, number], y: [number, number], top: number): string =>
    g.box([(x[0] + x[1]) / 2, (y[0] + y[1]) / 2, (floor + top) / 2], [(x[1] - x[0]) / 2, (y[1] - y[0]) / 2, (top - floor) / 2], rgba);
  const xml = (name: string): string => {
    const g = new GeomWriter(name);
    return (
      g.box([0, 0, floor / 2], [0.075, 0.215, floor / 2], rgba) +
      wall(g, [0.069, 0.075], [-0.215, 0.215], 0.17) +
      wall(g, [-0.075, -0.069], [-0.215, 0.215], 0.08) +
      wall(g, [-0.069, 0.069], [0.209, 0.215], 0.12) +
      wall(g, [-0.069, 0.069], [-0.215, -0.209], 0.12) +
      wall(g, [-0.069, 0.069], [0.075, 0.081], 0.14) +
      wall(g, [-0.069, 0.069], [-0.081, -0.075], 0.14) +
      wall(g, [-0.003, 0.003], [-0.075, 0.075], 0.11) +
      sitesXml(name, sites)
    );
  };
  return { category: 'desk_caddy', kind: 'fixture', body: xml, height: 0.17, radius: Math.hypot(0.075, 0.215), sites, joints: [] };
}

/** Fixture models by BDDL category. Work surfaces (tables, floor) are in arenas.ts SURFACES. */
export const FIXTURES: ReadonlyMap<string, AssetModel> = new Map(
  [
    cabinet('wooden_cabinet', '0.4 0.25 0.14 1', '0.47 0.3 0.18 1'),
    cabinet('white_cabinet', '0.9 0.9 0.88 1', '0.96 0.96 0.94 1'),
    microwave(),
    flatStove(),
    wineRack(),
    deskCaddy(),
  ].map((m) => [m.category, m]),
);

/** The fixture model for a BDDL category; a RiptideError naming the category and the known ones otherwise. */
export function fixtureModel(category: string): AssetModel {
  const model = FIXTURES.get(category);
  if (model) return model;
  const known = [...FIXTURES.keys()].join(', ');
  if (SURFACES.has(category)) {
    throw new RiptideError(
      `fixture category '${category}' is a work surface, not a placed fixture: take it from SURFACES (src/tasks/assets/arenas.ts); placed fixtures: ${known}`,
    );
  }
  throw new RiptideError(
    `unknown fixture category '${category}': riptide models ${known} (and the surfaces ${[...SURFACES.keys()].join(', ')}); ` +
      `change the BDDL :fixtures entry or add a model to src/tasks/assets/fixtures.ts`,
  );
}
