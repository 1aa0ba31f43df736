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

  /** A collision box and its visual twin (quat w x y z, when turned). */
  box(pos: Vec3, half: Vec3, rgba: string, contact: string = OBJECT_CONTACT, quat?: readonly number[]): string {
    const i = this.#n++;
    const shape = `type="box" pos="${fmt(pos)}" size="${fmt(half)}"` + (quat ? ` quat="${fmt(quat)}"` : '');
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
// tray floor top z 0.008, walls up to z 0.060, interior x [-0.1155, 0.0985] x y [-0.091, 0.091].
//
// Handles are fins (1 cm thick vertical plates standing out of the front, z [0.02, 0.0627]) that a gripper
// pointing down pinches. A centred bar 3.8 cm out works for the top drawer only: for a lower one the hand (6 cm deep,
// 20 cm long along the finger axis, its underside 3.9 cm above the grip site) and the wrist above it (link 7,
// 4.5 cm radius) hit the fronts and handles of the drawers above. So the top fin stands 3.5 cm out (pinched with
// the hand above the carcass), the lower two 10 cm, pinched 8.5 cm out (the hand 2 cm clear of the top fin, the
// wrist 4 cm clear of the carcass top edge, with the drawer pushed in to its +0.01 limit or not) at y = +-7 cm, so
// that the hand reaching the bottom fin (20 cm wide along y) passes beside the middle fin and the wrist beside the
// top one. The top fin sits 3 cm off centre so a bowl set into the open bottom drawer on the other side passes it.
// Site `${name}_${drawer}_handle` marks the pinch point.
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
const FRONT_X = -CAB_HX;
/** Fin reach beyond the front, lateral position (drawer frame) and where the fingers pinch it (from the front). */
const HANDLE: Record<(typeof DRAWERS)[number]['name'], { reach: number; y: number; pinch: number }> = {
  top_level: { reach: 0.035, y: 0.03, pinch: 0.02 },
  middle_level: { reach: 0.1, y: 0.07, pinch: 0.085 },
  bottom_level: { reach: 0.1, y: -0.07, pinch: 0.085 },
};
const FIN_HALF_Y = 0.005;
const FIN_Z: [number, number] = [0.02, 0.0627];
/** Pinch height (drawer frame): the finger pads span grip -0.4..+1.2 cm, inside the fin's top; for the top drawer
 *  this keeps the hand 1.2 cm above the carcass. */
const PINCH_Z = 0.05;

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
      const h = HANDLE[d];
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
        // handle fin, and the point the fingers pinch (an expert's site, not a region)
        g.box([FRONT_X - h.reach / 2, h.y, (FIN_Z[0] + FIN_Z[1]) / 2], [h.reach / 2, FIN_HALF_Y, (FIN_Z[1] - FIN_Z[0]) / 2], handleRgba) +
        `<site name="${name}_${d}_handle" pos="${fmt([FRONT_X - h.pinch, h.y, PINCH_Z])}" size="0.004" group="3"/>` +
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
    // The carcass and the top fin. The lower fins stand further out in front of the drawers, where the robot has to
    // reach to work them anyway; counting them would grow the circle by 4.5 cm all round and crowd LIBERO's
    // layouts (objects sit 22 cm from the cabinet's centre in libero_spatial) out of their regions.
    radius: Math.hypot(CAB_HX + HANDLE.top_level.reach, CAB_HY),
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
// (door frame y -0.2625) stands 2.5-3.5 cm out from the door face. It rises 1 cm above the door, flush with the
// carcass top, so a hand pointing down can pinch its top (site `${name}_door_handle`) with the palm 2.4 cm clear
// of the microwave, and a palm sweeping just above the microwave passes over it.
const MW_HY = 0.1725;
// Taller than LIBERO's (19 cm): a hand pointing down holds a mug by its rim with the wrist 21 cm above the grip,
// so setting a mug inside through the door needs a 31 cm cavity.
const MW_H = 0.34;
const MW_FLOOR = 0.015;
const MW_CEIL = 0.325;
const DOOR_HZ = (MW_CEIL - MW_FLOOR) / 2 + 0.005;
const HANDLE_TOP = MW_H - (MW_FLOOR + MW_CEIL) / 2; // door frame (origin at mid-height): flush with the carcass top
const HANDLE_PINCH_BELOW = 0.015;

function microwave(): AssetModel {
  const body = '0.82 0.82 0.84 1';
  const dark = '0.12 0.12 0.13 1';
  const sites: RegionSite[] = [
    // LIBERO's region (half height 8 cm above the floor), so In keeps its meaning in the taller cavity.
    { name: 'heating_region', pos: [0.005, 0.025, MW_FLOOR + 0.08], size: [0.1, 0.125, 0.08] },
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
      `<inertial pos="-0.005 -0.1425 0" mass="0.6" diaginertia="0.0095 0.0055 0.0041"/>` +
      `<joint name="${name}_microjoint" type="hinge" axis="0 0 1" limited="true" range="-2.094 0" damping="0.5"/>` +
      g.box([0, -0.1425, 0], [0.01, 0.1425, DOOR_HZ], body, c) +
      g.trim([-0.0105, -0.13, 0], [0.0005, 0.095, DOOR_HZ - 0.03], '0.15 0.15 0.17 0.9') +
      g.box([-0.0225, -0.2625, HANDLE_TOP - 0.045], [0.0125, 0.005, 0.005], '0.7 0.7 0.72 1', c) +
      g.box([-0.0225, -0.2625, -0.05], [0.0125, 0.005, 0.005], '0.7 0.7 0.72 1', c) +
      g.box([-0.04, -0.2625, (HANDLE_TOP - 0.065) / 2], [0.005, 0.006, (HANDLE_TOP + 0.065) / 2], '0.7 0.7 0.72 1', c) +
      `<site name="${name}_door_handle" pos="${fmt([-0.04, -0.2625, HANDLE_TOP - HANDLE_PINCH_BELOW])}" size="0.004" group="3"/>` +
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
// Knob body at (-0.115, 0, 0.032), in front of the base, on a hinge along +x. An arm at angle a (about +x, from
// +z) points along (0, -sin a, cos a), so q > 0 swings the parts toward -y. A hand pointing down can push a part
// only sideways or down, so the knob has one part for each direction: a pointer fin 4 cm long, upright when off
// (pushed toward -y it turns the knob on), and a peg 3 cm out at -1.6 rad, carried by an arm behind the reach of
// the fingers (x > 0.006): over the whole range [-0.005, 2.1] the peg stays above or to the +y side of the axis,
// where pushing it toward +y or down turns the knob off, and no arm lies between it and the finger. Closed
// fingers lined up with the axis (4.2 cm along it, 2.1 cm across) centred on x = -0.021 cover the front parts
// (x < 0.004) and miss the rear arm. Sites `${name}_knob_tip` (pointer end) and `${name}_knob_peg` (peg axis) sit in that plane.
// The centre of mass sits 3 cm from the axis, 0.25 rad toward +y of the pointer, so gravity holds the knob at the
// off stop (q = -0.005, where LIBERO's "q < 0" reads off) below q = 0.25 and creeps it on toward the 2.1 stop
// above (damping 1 keeps that slow).
const STOVE_H = 0.04;
const KNOB_COM_ANGLE = 0.25;
const KNOB_POS: Vec3 = [-0.115, 0, 0.032];
const KNOB_FRONT = -0.02; // x of the knob's front face (body frame)
const FINGER_PLANE = -0.021;
const POINTER = 0.04;
const PEG_ANGLE = -1.6;
const PEG_RADIUS = 0.03;
const PEG_R = 0.005;
const REAR_ARM_X: [number, number] = [0.006, 0.012];

function flatStove(): AssetModel {
  const sites: RegionSite[] = [{ name: 'cook_region', pos: [0, 0, STOVE_H - 0.0025], size: [0.075, 0.075, 0.0025] }];
  const xml = (name: string): string => {
    const g = new GeomWriter(name);
    const com: Vec3 = [0, 0.03 * Math.sin(KNOB_COM_ANGLE), 0.03 * Math.cos(KNOB_COM_ANGLE)];
    const arm = (a: number, r: number, x = 0): Vec3 => [x, -r * Math.sin(a), r * Math.cos(a)];
    const turned = [Math.cos(PEG_ANGLE / 2), Math.sin(PEG_ANGLE / 2), 0, 0]; // a box's z along the peg arm
    const dark = '0.1 0.1 0.1 1';
    const rearX = (REAR_ARM_X[0] + REAR_ARM_X[1]) / 2;
    return (
      g.box([0, 0, STOVE_H / 2], [0.095, 0.095, STOVE_H / 2], '0.28 0.28 0.3 1') +
      g.trim([0, 0, STOVE_H + 0.0001], [0.09, 0.09, 0.0003], '0.04 0.04 0.04 1') +
      // LIBERO shows the burner only while the knob is on; alpha 0 = the off look, the renderer may raise it.
      `<geom name="${name}_burner" type="cylinder" pos="0 0 ${fmt([STOVE_H + 0.0006])}" size="0.0625 0.0003" group="1" contype="0" conaffinity="0" mass="0" rgba="0.9 0.05 0.05 0"/>` +
      sitesXml(name, sites) +
      `<body name="${name}_knob" pos="${fmt(KNOB_POS)}">` +
      `<inertial pos="${fmt(com)}" mass="0.2" diaginertia="0.0001 0.0001 0.0001"/>` +
      `<joint name="${name}_button" type="hinge" axis="1 0 0" limited="true" range="-0.005 2.1" damping="1" armature="0.01"/>` +
      g.rod([KNOB_FRONT, 0, 0], [REAR_ARM_X[1], 0, 0], 0.01, dark) +
      g.box([(KNOB_FRONT + 0.004) / 2, 0, POINTER / 2], [(0.004 - KNOB_FRONT) / 2, 0.004, POINTER / 2], dark) +
      g.box(arm(PEG_ANGLE, PEG_RADIUS / 2, rearX), [(REAR_ARM_X[1] - REAR_ARM_X[0]) / 2, 0.004, PEG_RADIUS / 2], dark, OBJECT_CONTACT, turned) +
      g.rod(arm(PEG_ANGLE, PEG_RADIUS, KNOB_FRONT), arm(PEG_ANGLE, PEG_RADIUS, REAR_ARM_X[1]), PEG_R, '0.75 0.1 0.1 1') +
      `<site name="${name}_knob_tip" pos="${fmt(arm(0, POINTER, FINGER_PLANE))}" size="0.003" group="3"/>` +
      `<site name="${name}_knob_peg" pos="${fmt(arm(PEG_ANGLE, PEG_RADIUS, FINGER_PLANE))}" size="0.003" group="3"/>` +
      `</body>`
    );
  };
  return {
    category: 'flat_stove',
    kind: 'fixture',
    body: xml,
    height: STOVE_H,
    radius: Math.hypot(-KNOB_POS[0] - KNOB_FRONT, 0.095),
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
