// The workspace of each BDDL problem class (spec/libero.md §1-§3): the work surface the regions sit on, where the
// Panda stands (with or without its pedestal) and LIBERO's agentview camera pose. The surfaces double as the
// fixtures BDDL names them by ('kitchen_table', 'floor', ...): SURFACES maps those categories to the same arenas.
//
// Region heights: our objects have their origin at their lowest point (types.ts), so an object resting on a
// surface at height h has origin z = h. LIBERO's On(obj, zone) wants h_z - 0.005 < obj_z - zone_z < h_z + 0.10
// with the zone half height h_z = 0.007; zoneZ = surfaceZ - 0.01 (src/tasks/scene.ts centres its zones there) puts a
// resting object at d_z = 0.01, 8 mm clear of the lower bound. LIBERO's own zone heights (0.895 on the 0.90 table,
// 0.875 in the kitchen, 0.41 in the living room) assume its object origins, which sit above the object bottoms.
import { RiptideError } from '../../errors.ts';
import { tableXml } from '../../sim/mjcf/scene.ts';
import type { Arena, Quat, Vec3 } from './types.ts';

/** How far below the surface a TargetZone centre sits. */
const ZONE_BELOW_SURFACE = 0.01;

const TABLETOP_CAMERA = { pos: [0.6586, 0, 1.6104] as Vec3, quat: [0.638, 0.3048, 0.3048, 0.638] as Quat };
const LOW_CAMERA_QUAT: Quat = [0.6182, 0.3432, 0.3432, 0.6182];

const fmt = (v: readonly number[]): string => v.map((x) => +x.toFixed(5)).join(' ');

/** A box table of any size (the living-room table is 0.70 x 1.6): collision + visual top, four visual legs. */
function boxTableXml(o: { name: string; center: [number, number]; half: [number, number]; thickness: number; top: number; friction: Vec3; rgba: string }): string {
  const hz = o.thickness / 2;
  const legHalf = (o.top - o.thickness) / 2;
  const legs = [
    [1, 1],
    [-1, 1],
    [1, -1],
    [-1, -1],
  ]
    .map(
      ([sx, sy]) =>
        `<geom type="cylinder" pos="${fmt([sx * (o.half[0] - 0.05), sy * (o.half[1] - 0.05), -hz - legHalf])}" size="0.025 ${fmt([legHalf])}" ` +
        `group="1" contype="0" conaffinity="0" mass="0" rgba="0.3 0.3 0.3 1"/>`,
    )
    .join('');
  const size = fmt([o.half[0], o.half[1], hz]);
  return (
    `<body name="${o.name}" pos="${fmt([o.center[0], o.center[1], o.top - hz])}">` +
    `<geom name="${o.name}_collision" type="box" size="${size}" friction="${fmt(o.friction)}" group="0" rgba="0.5 0.5 0.5 1"/>` +
    `<geom name="${o.name}_visual" type="box" size="${size}" group="1" contype="0" conaffinity="0" mass="0" rgba="${o.rgba}"/>` +
    legs +
    `</body>`
  );
}

function arena(a: Omit<Arena, 'zoneZ'>): Arena {
  return { ...a, zoneZ: +(a.surfaceZ - ZONE_BELOW_SURFACE).toFixed(6) };
}

const ALL: Arena[] = [
  // libero_spatial / libero_goal: LIBERO's generic 1.0 x 1.2 table, top z 0.90, friction 0.6.
  arena({
    problem: 'libero_tabletop_manipulation',
    surfaceCategory: 'table',
    robot: { base: [-0.66, 0, 0.912], mount: true },
    camera: TABLETOP_CAMERA,
    surfaceZ: 0.9,
    offset: [0, 0],
    worldbody: (name) => tableXml({ name, pos: [0, 0, 0.9], friction: [0.6, 0.005, 0.0001] }),
  }),
  // LIBERO-90/10 kitchen scenes: the same table with friction 1.
  arena({
    problem: 'libero_kitchen_tabletop_manipulation',
    surfaceCategory: 'kitchen_table',
    robot: { base: [-0.66, 0, 0.912], mount: true },
    camera: TABLETOP_CAMERA,
    surfaceZ: 0.9,
    offset: [0, 0],
    worldbody: (name) => tableXml({ name, pos: [0, 0, 0.9], friction: [1, 0.005, 0.0001] }),
  }),
  // Living room: a low 0.70 x 1.6 x 0.024 table, top z 0.41; the arm stands on the ground (no pedestal), its
  // base 1 cm above the top as on the other tables.
  arena({
    problem: 'libero_living_room_tabletop_manipulation',
    surfaceCategory: 'living_room_table',
    robot: { base: [-0.51, 0, 0.42], mount: false },
    camera: { pos: [0.6066, 0, 0.96], quat: LOW_CAMERA_QUAT },
    surfaceZ: 0.41,
    offset: [0, 0],
    worldbody: (name) =>
      boxTableXml({ name, center: [0, 0], half: [0.35, 0.8], thickness: 0.024, top: 0.41, friction: [1, 0.005, 0.0001], rgba: '0.62 0.45 0.3 1' }),
  }),
  // Study: LIBERO's workspace offset (-0.2, 0, 0.867) is the table centre; regions are relative to it. The arm
  // base is 1.2 cm above the top (-0.75, 0, 0.879) as on the 0.90 tables (LIBERO passes z 0.912 through its
  // mount offset; unverified, spec §2).
  arena({
    problem: 'libero_study_tabletop_manipulation',
    surfaceCategory: 'study_table',
    robot: { base: [-0.75, 0, 0.879], mount: true },
    camera: { pos: [0.4586, 0, 1.6104], quat: TABLETOP_CAMERA.quat },
    surfaceZ: 0.867,
    offset: [-0.2, 0],
    worldbody: (name) => tableXml({ name, pos: [-0.2, 0, 0.867], friction: [1, 0.005, 0.0001], rgba: '0.45 0.3 0.2 1' }),
  }),
  // libero_object: objects on the floor plane composeScene adds; the surface fixture is an empty body.
  arena({
    problem: 'libero_floor_manipulation',
    surfaceCategory: 'floor',
    robot: { base: [-0.6, 0, 0], mount: false },
    camera: { pos: [0.8966, 0, 0.65], quat: LOW_CAMERA_QUAT },
    surfaceZ: 0,
    offset: [0, 0],
    worldbody: (name) => `<body name="${name}" pos="0 0 0"/>`,
  }),
];

/** Arenas by lower-case BDDL problem class. */
export const ARENAS: ReadonlyMap<string, Arena> = new Map(ALL.map((a) => [a.problem, a]));

/** The same arenas by work-surface fixture category ('table', 'kitchen_table', ..., 'floor'). */
export const SURFACES: ReadonlyMap<string, Arena> = new Map(ALL.map((a) => [a.surfaceCategory, a]));

/** The arena of a BDDL `(problem ...)` class (case-insensitive, as LIBERO's TASK_MAPPING); `file` names the BDDL file in errors. */
export function arenaFor(problem: string, file?: string): Arena {
  const a = ARENAS.get(problem.trim().toLowerCase());
  if (a) return a;
  throw new RiptideError(
    `${file ? `${file}: ` : ''}problem class '${problem}' is not supported; riptide supports ${[...ARENAS.keys()].join(', ')} ` +
      `(change the BDDL '(define (problem ...))' line or add an arena to src/tasks/assets/arenas.ts)`,
  );
}
