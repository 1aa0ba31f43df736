// BDDL problem -> one MJCF document and the facts the samplers, predicates and experts need about it: which body
// each instance is, which site each region is (with its half sizes and owner), which joint moves a drawer region.
// Movable objects get free joints (BDDL :objects order, as LIBERO's qpos); fixtures are mocap bodies so that every
// env of a VecEnv can hold its own fixture poses under one compiled model; the work surface is static.
import { createHash } from 'node:crypto';

import { composeScene } from '../sim/mjcf/scene.ts';
import { ARENAS, SURFACES } from './assets/arenas.ts';
import { FIXTURES } from './assets/fixtures.ts';
import { OBJECTS } from './assets/objects.ts';
import type { Arena, ArticulatedJoint, AssetModel, Vec3 } from './assets/types.ts';
import { BddlError, checkBddl, type BddlProblem, type BddlVocabulary } from './bddl.ts';

/** Predicates the goal and :init may use, with their arity (spec/libero.md §3). */
export const PREDICATES: ReadonlyMap<string, number> = new Map([
  ['on', 2],
  ['in', 2],
  ['open', 1],
  ['close', 1],
  ['turnon', 1],
  ['turnoff', 1],
  ['up', 1],
]);

/** Table regions are thin boxes (LIBERO's TargetZone half height) centred at the arena's zoneZ. */
const ZONE_HALF_Z = 0.007;

export interface SceneInstance {
  name: string;
  category: string;
  model: AssetModel;
  line: number;
}

export interface SceneRegion {
  /** Registered name `${target}_${region}`, as atoms refer to it; also the MJCF site name. */
  name: string;
  /** Half sizes of the site box. */
  size: Vec3;
  /** The object or fixture instance holding the site; undefined for table zones. */
  owner?: string;
  /** Table zones: the :ranges rectangles in world xy (xmin, ymin, xmax, ymax) and the yaw ranges. */
  ranges: [number, number, number, number][];
  yawRotation: [number, number][];
  /** Drawer regions: the joint (full MJCF name) whose body carries the site. */
  joint?: string;
  line: number;
}

export interface TaskScene {
  problem: BddlProblem;
  arena: Arena;
  /** The surface fixture instance (e.g. 'main_table'). */
  surface: string;
  objects: SceneInstance[];
  /** Non-surface fixtures, in MJCF mocap order. */
  fixtures: SceneInstance[];
  regions: Map<string, SceneRegion>;
  /** Articulated joints by full MJCF name, with the instance that owns them. */
  joints: Map<string, { owner: string; spec: ArticulatedJoint }>;
  mjcf: string;
  /** Hash of the MJCF: init states generated for another model are refused. */
  signature: string;
}

/** Categories, sites and predicates the built-in library supports, for checkBddl. */
export function vocabulary(): BddlVocabulary {
  const categories = new Map<string, { kind: 'object' | 'fixture'; sites: string[] }>();
  for (const m of OBJECTS.values()) categories.set(m.category, { kind: 'object', sites: m.sites.map((s) => s.name) });
  for (const m of FIXTURES.values()) categories.set(m.category, { kind: 'fixture', sites: m.sites.map((s) => s.name) });
  for (const a of SURFACES.values()) categories.set(a.surfaceCategory, { kind: 'fixture', sites: [] });
  return { categories, predicates: new Map(PREDICATES), surfaces: [...SURFACES.keys()] };
}

const f = (x: number) => (Math.abs(x) < 1e-12 ? '0' : Number(x.toFixed(6)).toString());
const v3 = (v: readonly number[]) => v.map(f).join(' ');

/** Checks the problem against the library and builds its scene. Errors name the BDDL file and line. */
export function buildScene(problem: BddlProblem): TaskScene {
  checkBddl(problem, vocabulary());
  const arena = ARENAS.get(problem.problem);
  if (!arena) {
    throw new BddlError(
      `${problem.file}:1: problem class '${problem.problem}' is not supported; use one of: ${[...ARENAS.keys()].join(', ')}`,
    );
  }
  const surfaces = problem.fixtures.filter((x) => SURFACES.has(x.category));
  if (surfaces.length !== 1 || surfaces[0].category !== arena.surfaceCategory) {
    const line = surfaces[0]?.line ?? 1;
    throw new BddlError(
      `${problem.file}:${line}: a ${problem.problem} problem needs exactly one work-surface fixture of category ` +
        `'${arena.surfaceCategory}' (e.g. 'main_table - ${arena.surfaceCategory}' in :fixtures), found ` +
        `${surfaces.map((s) => `${s.name} - ${s.category}`).join(', ') || 'none'}`,
    );
  }
  const surface = surfaces[0].name;
  const objects = problem.objects.map((o) => ({ ...o, model: OBJECTS.get(o.category)! }));
  const fixtures = problem.fixtures
    .filter((x) => !SURFACES.has(x.category))
    .map((x) => ({ ...x, model: FIXTURES.get(x.category)! }));
  const byName = new Map<string, SceneInstance>([...objects, ...fixtures].map((i) => [i.name, i]));

  const joints = new Map<string, { owner: string; spec: ArticulatedJoint }>();
  for (const inst of fixtures) for (const j of inst.model.joints) joints.set(`${inst.name}_${j.name}`, { owner: inst.name, spec: j });

  const regions = new Map<string, SceneRegion>();
  const zoneSites: string[] = [];
  const [ox, oy] = arena.offset;
  for (const r of problem.regions) {
    const name = `${r.target}_${r.name}`;
    if (r.target === surface) {
      const ranges = r.ranges.map(([x0, y0, x1, y1]) => [x0 + ox, y0 + oy, x1 + ox, y1 + oy] as [number, number, number, number]);
      const [x0, y0, x1, y1] = ranges[0];
      const size: Vec3 = [(x1 - x0) / 2, (y1 - y0) / 2, ZONE_HALF_Z];
      const pos: Vec3 = [(x0 + x1) / 2, (y0 + y1) / 2, arena.zoneZ];
      zoneSites.push(`<site name="${name}" type="box" pos="${v3(pos)}" size="${v3(size)}" group="3" rgba="${(r.rgba ?? [0, 0, 1, 0.3]).join(' ')}"/>`);
      regions.set(name, { name, size, ranges, yawRotation: r.yawRotation, line: r.line });
      continue;
    }
    const owner = byName.get(r.target)!;
    const site = owner.model.sites.find((s) => s.name === r.name)!;
    const joint = site.body ? owner.model.joints.find((j) => j.body === site.body) : undefined;
    regions.set(name, {
      name,
      size: site.size,
      owner: owner.name,
      ranges: [],
      yawRotation: r.yawRotation,
      joint: joint ? `${owner.name}_${joint.name}` : undefined,
      line: r.line,
    });
  }

  const parts = [arena.worldbody(surface), zoneSites.join('\n')];
  // Objects start at the origin; their placement comes from the init state (free-joint qpos).
  for (const o of objects) {
    parts.push(`<body name="${o.name}" pos="0 0 ${f(arena.surfaceZ)}"><freejoint name="${o.name}_joint"/>${o.model.body(o.name)}</body>`);
  }
  for (const x of fixtures) {
    parts.push(`<body name="${x.name}" mocap="true" pos="0 0 ${f(arena.surfaceZ)}">${x.model.body(x.name)}</body>`);
  }
  parts.push(`<camera name="agentview" mode="fixed" pos="${v3(arena.camera.pos)}" quat="${v3(arena.camera.quat)}"/>`);
  const mjcf = composeScene({
    name: problem.problem,
    robot: arena.robot,
    worldbody: parts.join('\n'),
    // Mocap fixtures and the static surface never collide with each other (both are fixed), so only the
    // objects' contacts count toward the arena.
    size: { nconmax: 300, njmax: 900 },
  });
  const signature = createHash('sha256').update(mjcf).digest('hex').slice(0, 16);
  return { problem, arena, surface, objects, fixtures, regions, joints, mjcf, signature };
}

/** Gap kept between an object and an open drawer's front panel. */
const DRAWER_MARGIN = 0.008;

/**
 * How far toward the front (local -x) of an open drawer's region an object of footprint radius r is set down: only
 * the drawer's front part is out of the cabinet, with room above it to lower or lift the object.
 */
export function drawerFrontOffset(region: SceneRegion, radius: number): number {
  return Math.max(0, region.size[0] - radius - DRAWER_MARGIN);
}
