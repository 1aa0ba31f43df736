// The experts' shared vocabulary: a skill is a generator yielding one command per control step (grip-site target,
// hand yaw from the start pose, gripper), reading the simulator through a View of one env.
import type { TaskScene } from '../scene.ts';

export type V3 = [number, number, number];

export const POS_GAIN = 1.6; // action units per 0.05 m of position error
export const ROT_GAIN = 1.0; // action units per 0.5 rad of orientation error
export const LIFT_CLEARANCE = 0.1; // carry the held object's bottom this far above anything it passes over
export const MIN_CARRY = 0.22; // carry height above the work surface, at least
export const CLOSE_STEPS = 12;
export const RELEASE_STEPS = 10;

// The Panda hand (src/sim/mjcf/panda.ts) as seen from its grip site.
export const HAND_UNDERSIDE = 0.039; // the palm box's underside above the grip site
export const FINGER_BELOW = 0.0064; // fingertips below the grip site
export const CLOSED_HALF_LONG = 0.021; // closed fingers: half extent along the finger axis
export const CLOSED_HALF_WIDE = 0.0105; // ... and across it

const YAW_BIAS = 0.4; // see fingersAlong

/**
 * One control step's command: where the grip site should go, the hand's yaw (from its start pose), the gripper, and
 * optionally a tilt (a world rotation vector applied after the yaw) that leans the hand off pointing straight down.
 */
export interface Command {
  pos: V3;
  yaw: number;
  grip: number;
  tilt?: V3;
}

export type Skill = Generator<Command, void, void>;

export interface View {
  eef(): V3;
  /** Body origin and yaw (about world z). */
  body(name: string): { pos: V3; yaw: number };
  site(name: string): V3;
  joint(name: string): number;
  /** World angle of the fingers' closing axis at the start pose. */
  fingerAngle0: number;
  /** Current hand yaw relative to the start pose. */
  yaw(): number;
}

/** What every skill may read besides the live view. */
export interface Ctx {
  scene: TaskScene;
  surfaceZ: number;
}

/** Moves to pos (yaw, grip and tilt held) until within tol or maxSteps. */
export function* moveTo(v: View, pos: V3, yaw: number, grip: number, tol = 0.008, maxSteps = 80, tilt?: V3): Skill {
  for (let i = 0; i < maxSteps; i++) {
    const e = v.eef();
    if (Math.hypot(e[0] - pos[0], e[1] - pos[1], e[2] - pos[2]) < tol && Math.abs(wrap(v.yaw() - yaw)) < 0.05) return;
    yield { pos, yaw, grip, tilt };
  }
}

export function* hold(v: View, steps: number, yaw: number, grip: number, pos?: V3, tilt?: V3): Skill {
  const p = pos ?? v.eef();
  for (let i = 0; i < steps; i++) yield { pos: p, yaw, grip, tilt };
}

/**
 * Relative hand yaw that puts the fingers' closing axis along world angle a. Either of two opposite yaws does; take
 * the one in (-pi/2, pi/2] shifted up by YAW_BIAS: yaw y turns joint 7 from pi/4 to about pi/4 - y, so a quarter
 * turn then goes the way that keeps it 1 rad or more inside its +-2.9 range (the other way ends 0.5 rad from the
 * limit, where the arm low over the stove could not finish the turn).
 */
export function fingersAlong(v: View, a: number): number {
  return wrapHalf(a - v.fingerAngle0 - YAW_BIAS) + YAW_BIAS;
}

// Small geometry helpers (quaternions xyzw)

export function clamp(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

export function wrap(a: number): number {
  return Math.atan2(Math.sin(a), Math.cos(a));
}

/** An angle folded into (-pi/2, pi/2]: a parallel gripper is symmetric under a half turn. */
export function wrapHalf(a: number): number {
  let x = wrap(a);
  if (x > Math.PI / 2) x -= Math.PI;
  if (x <= -Math.PI / 2) x += Math.PI;
  return x;
}

/** World angle of the hand's y axis (the fingers' sliding axis) for orientation q. */
export function fingerAngle(q: ArrayLike<number>): number {
  const [x, y, z, w] = [q[0], q[1], q[2], q[3]];
  return Math.atan2(1 - 2 * (x * x + z * z), 2 * (x * y - w * z));
}

/** q rotated by yaw about world z. */
export function yawQuat(q: ArrayLike<number>, yaw: number): [number, number, number, number] {
  const s = Math.sin(yaw / 2);
  const c = Math.cos(yaw / 2);
  // (0, 0, s, c) * q
  const [x, y, z, w] = [q[0], q[1], q[2], q[3]];
  return [c * x - s * y, c * y + s * x, c * z + s * w, c * w - s * z];
}

/** q rotated by the world rotation vector r (axis times angle). */
export function rotateQuat(q: ArrayLike<number>, r: V3): [number, number, number, number] {
  const angle = Math.hypot(r[0], r[1], r[2]);
  if (angle < 1e-12) return [q[0], q[1], q[2], q[3]];
  const s = Math.sin(angle / 2) / angle;
  const [ax, ay, az, aw] = [r[0] * s, r[1] * s, r[2] * s, Math.cos(angle / 2)];
  const [x, y, z, w] = [q[0], q[1], q[2], q[3]];
  // (ax, ay, az, aw) * q
  return [aw * x + ax * w + ay * z - az * y, aw * y - ax * z + ay * w + az * x, aw * z + ax * y - ay * x + az * w, aw * w - ax * x - ay * y - az * z];
}

/** Yaw about world z taking q0 to q (assumes the rotation between them is mostly about z). */
export function relativeYaw(q0: ArrayLike<number>, q: ArrayLike<number>): number {
  const e = orientationError(q, q0);
  return e[2];
}

/** Axis-angle (world frame) of the rotation taking cur to goal. */
export function orientationError(goal: ArrayLike<number>, cur: ArrayLike<number>): [number, number, number] {
  const [gx, gy, gz, gw] = [goal[0], goal[1], goal[2], goal[3]];
  const [cx, cy, cz, cw] = [-cur[0], -cur[1], -cur[2], cur[3]];
  let w = gw * cw - gx * cx - gy * cy - gz * cz;
  let x = gw * cx + gx * cw + gy * cz - gz * cy;
  let y = gw * cy - gx * cz + gy * cw + gz * cx;
  let z = gw * cz + gx * cy - gy * cx + gz * cw;
  if (w < 0) {
    w = -w;
    x = -x;
    y = -y;
    z = -z;
  }
  const s = Math.hypot(x, y, z);
  if (s < 1e-12) return [0, 0, 0];
  const angle = 2 * Math.atan2(s, w);
  return [(x / s) * angle, (y / s) * angle, (z / s) * angle];
}
