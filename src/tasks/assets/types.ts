// The contract between the object/fixture library (objects.ts, fixtures.ts, arenas.ts) and the scene generator
// (../scene.ts), the predicates and the scripted experts. An asset is MJCF written from primitives (boxes,
// cylinders, capsules) plus the facts the rest of riptide needs: its region sites, its articulated joints, how it
// rests on a surface and how a gripper can hold it.
//
// Conventions (every asset follows them):
// - Units metres, radians. The root body origin is at the centre of the asset's footprint, z = 0 at its lowest
//   collision point (so an object "on" a surface at height h has its origin at h). Local +z is up.
// - Fixtures with a front (cabinet, microwave, stove knob, caddy) face local -x: at yaw 0 the front looks at the
//   robot, which stands at world -x looking toward +x.
// - Collision geoms: group 0, LIBERO's object contact parameters (OBJECT_CONTACT) unless stated; visual geoms:
//   group 1, contype/conaffinity 0, mass 0. Masses come from density 100 on group-0 geoms
//   (inertiagrouprange="0 0"), as in LIBERO.
// - Every name inside the asset is prefixed with the instance name: geoms `${name}_g0`, sites
//   `${name}_${site.name}`, joints `${name}_${joint.name}`, child bodies `${name}_${child}`.
export type Vec3 = [number, number, number];
/** Quaternion w, x, y, z (MuJoCo order). */
export type Quat = [number, number, number, number];

/** LIBERO's contact parameters for object collision geoms (spec/libero.md §6). */
export const OBJECT_CONTACT = 'friction="0.95 0.3 0.1" solref="0.001 1" solimp="0.998 0.998 0.001" density="100"';

/** A box site other code refers to by name (BDDL regions such as `basket_1_contain_region`). */
export interface RegionSite {
  /** Local name, e.g. 'contain_region'; the MJCF site is `${instance}_${name}`. */
  name: string;
  /** Position in the frame of the body that holds it (root, or `body` below). */
  pos: Vec3;
  /** Half sizes (x, y, z) of the box: the predicates' window (spec/libero.md §3 On/In). */
  size: Vec3;
  quat?: Quat;
  /** Local name of the child body holding the site (e.g. 'top_level' for a drawer); omitted = root body. */
  body?: string;
}

export type ArticulationKind = 'drawer' | 'door' | 'knob';

/** A joint the predicates Open/Close/TurnOn/TurnOff read and the :init samplers set. */
export interface ArticulatedJoint {
  /** Local name; the MJCF joint is `${instance}_${name}`. */
  name: string;
  kind: ArticulationKind;
  /** Local name of the body the joint moves (region sites inside it belong to this joint). */
  body: string;
  /** LIBERO's predicate rules on the joint position (spec/libero.md §3). */
  isOpen?(q: number): boolean;
  isClosed?(q: number): boolean;
  isOn?(q: number): boolean;
  isOff?(q: number): boolean;
  /** Uniform ranges the :init samplers draw from for Open / Close / TurnOn / TurnOff. */
  initRanges: Partial<Record<'open' | 'close' | 'turnon' | 'turnoff', [number, number]>>;
}

/** How the scripted experts hold a movable object. */
export interface GraspHint {
  /** 'top': fingers close across the body from above; 'rim': fingers straddle a thin wall of radius rimRadius. */
  style: 'top' | 'rim';
  /** Height of the grip site above the object origin when closing. */
  height: number;
  /** Yaw (in the object frame) of the direction the fingers close along, e.g. across the narrow side of a box. */
  yaw: number;
  /** For 'rim': distance from the origin to the middle of the wall. */
  rimRadius?: number;
  /** For 'rim': the wall is the same all round (a bowl), so the grasp may take it at any yaw. */
  anyYaw?: boolean;
}

export interface AssetModel {
  /** BDDL category, e.g. 'akita_black_bowl', 'wooden_cabinet'. */
  category: string;
  /** 'object' gets a free joint; 'fixture' is placed by the scene (mocap body, or static for tables). */
  kind: 'object' | 'fixture';
  /** XML inside the root <body> of instance `name` (geoms, sites, child bodies, child joints); no <body> tag, no free joint. */
  body(name: string): string;
  /** Height of the top above the origin (placement of things on top, experts' clearances). */
  height: number;
  /** Horizontal radius of the footprint (collision-free placement). */
  radius: number;
  sites: RegionSite[];
  joints: ArticulatedJoint[];
  /** Movable objects: how to pick it up. */
  grasp?: GraspHint;
}

/**
 * A BDDL problem class's workspace: the table (or floor) fixture, robot placement and agentview camera
 * (spec/libero.md §1-§3). Region rectangles in BDDL `:ranges` are in the table frame: world xy = range xy + offset.
 */
export interface Arena {
  /** Lower-case BDDL problem class, e.g. 'libero_tabletop_manipulation'. */
  problem: string;
  /** Fixture category of the work surface that BDDL regions target ('table', 'kitchen_table', ..., 'floor'). */
  surfaceCategory: string;
  robot: { base: Vec3; mount: boolean };
  camera: { pos: Vec3; quat: Quat };
  /** World z of the work surface top (an object resting on it has its origin here). */
  surfaceZ: number;
  /** World xy offset of the region frame, and the z of region (TargetZone) site centres. */
  offset: [number, number];
  zoneZ: number;
  /** Static worldbody XML of the surface for fixture instance `name` (body named `name`; 'floor' adds no geoms). */
  worldbody(name: string): string;
}
