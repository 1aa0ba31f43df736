// Articulated fixtures, worked by a hand pointing straight down: a drawer by pinching its handle fin and sliding it
// along the drawer axis; the microwave door by sweeping it shut with the closed fingers pressed on its outer face
// (the hand above the door's top edge), or open by pinching its handle and dragging it round; the stove knob by
// pressing the closed fingers on its pointer (on) or its peg (off) along the arc they turn on (fixtures.ts has the
// geometry). Every target is recomputed each step from the sites and joint positions the View shows, so the
// fixture's pose and yaw per init state come for free. Each skill returns at once when its goal already holds and
// ends with the hand lifted clear above the fixture. A lower drawer needs the drawers above it shut (the hand passes
// where their trays would be).
//
// Goals reached, 50 generated init states each (test/tasks/articulated-experts.test.ts has the scenes): every drawer
// open and shut 50/50 (also with the cabinet yawed -0.45 or +0.3 rad); knob on and off 50/50 (stove yawed +-0.4);
// microwave door open 50/50, shut 50/50 with the microwave at (0, 0.30) (49/50 yawed +-0.3; 46/50 at LIBERO's
// (0, 0.35), where a door opened past about -1.95 rad turns its outer face out of the arm's reach).
// (Door figures measured with the 19 cm microwave; fixtures.ts has since made it 34 cm tall.)
import type { ArticulatedJoint } from '../assets/types.ts';
import {
  CLOSE_STEPS,
  CLOSED_HALF_LONG,
  CLOSED_HALF_WIDE,
  FINGER_BELOW,
  fingersAlong,
  HAND_UNDERSIDE,
  hold,
  MIN_CARRY,
  moveTo,
  RELEASE_STEPS,
  type Ctx,
  type Skill,
  type V3,
  type View,
} from './core.ts';

const ABOVE = 0.1; // approach and retreat this far above the fixture top
const SAFE_Z_TOL = 0.015;

// Drawers (LIBERO: open q < -0.14, closed q > 0; limits [-0.16, 0.01]).
const DRAWER_OPEN_Q = -0.152;
const DRAWER_SHUT_Q = 0.006;
const DRAWER_TOL = 0.003;
const DRAWER_LEAD = 0.03; // the hand leads the handle by at most this along the slide, so a slip cannot run away
const DRAWER_STEPS = 80;
const DRAWER_BACK_OFF = 0.03; // slide off the fin before lifting

// Microwave door (LIBERO: closed q > -0.005, open q < -1.3; limits [-2.094, 0]).
const DOOR_PUSH_AT = 0.75; // push at this fraction of the hinge-to-handle distance
const DOOR_HALF_THICK = 0.01;
const DOOR_GAP = 0.03; // approach the door face from this far out
const PALM_CLEARANCE = 0.008; // the palm's underside above the microwave (and the handle, flush with its top)
const DOOR_PRESS = 0.03; // target this far past the contact along the door's motion: a firm push
const DOOR_SHUT_Q = -0.002;
const DOOR_OPEN_Q = -1.5;
const DOOR_LEAD = 0.25; // rad the pinched handle is carried ahead of the door
const DOOR_STEPS = 120;
const DOOR_BACK_OFF = 0.04;

// Stove knob (LIBERO: on q >= 0.5, off q < 0; limits [-0.005, 2.1]).
const KNOB_ON_Q = 0.7; // past the 0.25 tipping point, with margin; gravity then keeps it on
const KNOB_OFF_Q = -0.002;
const POINTER_AT = 0.85; // push the pointer at this fraction of its length
const POINTER_HALF = 0.004; // half thickness of the pointer fin
const PEG_R = 0.005;
const CONTACT_GAP = 0.002;
const FACE_SHIFT = 0.004; // slide the finger's corner off the contact so a face, not the corner, touches
const KNOB_PRESS = 0.04;
const KNOB_APPROACH_GAP = 0.01;
const KNOB_STEPS = 120;
const PEG_PRESS_DOWN_BELOW = -Math.PI / 4; // peg angle (from up) past which the fingers press it down

interface Fixture {
  owner: string;
  spec: ArticulatedJoint;
  yaw: number;
  /** World z of the fixture's top. */
  top: number;
}

function fixtureOf(v: View, c: Ctx, joint: string): Fixture {
  const { owner, spec } = c.scene.joints.get(joint)!;
  const model = c.scene.fixtures.find((f) => f.name === owner)!.model;
  const root = v.body(owner);
  return { owner, spec, yaw: root.yaw, top: root.pos[2] + model.height };
}

/** Lifts the hand straight up, clear of the fixture and high enough for the next skill to start from. */
function* retreat(v: View, c: Ctx, f: Fixture, yaw: number, grip: number): Skill {
  const e = v.eef();
  yield* moveTo(v, [e[0], e[1], Math.max(f.top + ABOVE, c.surfaceZ + MIN_CARRY, e[2])], yaw, grip, SAFE_Z_TOL, 40);
}

/** From wherever the hand is, over `p` at a safe height, then straight down onto it. */
function* descendOnto(v: View, f: Fixture, p: V3, yaw: number, grip: number, tol: number): Skill {
  yield* moveTo(v, [p[0], p[1], Math.max(f.top + ABOVE, v.eef()[2])], yaw, grip, SAFE_Z_TOL, 80);
  yield* moveTo(v, p, yaw, grip, tol, 50);
}

export function* drawer(v: View, c: Ctx, joint: string, open: boolean): Skill {
  const f = fixtureOf(v, c, joint);
  const done = (q: number) => (open ? q < DRAWER_OPEN_Q + DRAWER_TOL : q > DRAWER_SHUT_Q - DRAWER_TOL);
  if (open ? f.spec.isOpen!(v.joint(joint)) : f.spec.isClosed!(v.joint(joint))) return;
  // The slide axis is the fixture's local +x (q > 0 pushes in); the fin is thin along local y.
  const axis: V3 = [Math.cos(f.yaw), Math.sin(f.yaw), 0];
  const yaw = fingersAlong(v, f.yaw + Math.PI / 2);
  const handle = `${f.owner}_${f.spec.body}_handle`;
  const goal = open ? DRAWER_OPEN_Q : DRAWER_SHUT_Q;
  const h = v.site(handle);
  yield* descendOnto(v, f, h, yaw, -1, 0.005);
  yield* hold(v, CLOSE_STEPS, yaw, 1, h);
  for (let i = 0; i < DRAWER_STEPS; i++) {
    const q = v.joint(joint);
    if (done(q)) break;
    const d = Math.max(-DRAWER_LEAD, Math.min(DRAWER_LEAD, goal - q));
    const p = v.site(handle);
    yield { pos: [p[0] + axis[0] * d, p[1] + axis[1] * d, p[2]], yaw, grip: 1 };
  }
  yield* hold(v, RELEASE_STEPS, yaw, -1);
  // A lower drawer's hand then rises past the fins above.
  const e = v.eef();
  yield* moveTo(v, [e[0] - axis[0] * DRAWER_BACK_OFF, e[1] - axis[1] * DRAWER_BACK_OFF, e[2]], yaw, -1, 0.008, 15);
  yield* retreat(v, c, f, yaw, -1);
}

export function* door(v: View, c: Ctx, joint: string, open: boolean): Skill {
  const f = fixtureOf(v, c, joint);
  if (open ? f.spec.isOpen!(v.joint(joint)) : f.spec.isClosed!(v.joint(joint))) return;
  // The door body's origin is on the hinge (vertical axis). At door angle t = yaw + q the panel runs from the hinge
  // along (sin t, -cos t) and its outer face (handle side) looks along (-cos t, -sin t); q rising (closing) moves
  // it along (cos t, sin t).
  const hinge = v.body(`${f.owner}_${f.spec.body}`).pos;
  if (open) {
    yield* dragDoorOpen(v, c, f, joint, hinge);
    return;
  }
  const hs = v.site(`${f.owner}_door_handle`);
  const reach = Math.hypot(hs[0] - hinge[0], hs[1] - hinge[1]);
  const r = DOOR_PUSH_AT * reach;
  // The fingers overlap the door's upper edge while the palm passes just above the fixture's top.
  const z = f.top + PALM_CLEARANCE - HAND_UNDERSIDE;
  // Fingers along the closed door: the sweep ends with their thin side on the face.
  const fingerAngle = f.yaw - Math.PI / 2;
  const yaw = fingersAlong(v, fingerAngle);
  const at = (t: number, out: number, press: number): V3 => {
    // Closed fingers' half extent along the face normal, so their side, not their centre, touches the face.
    const n = t + Math.PI - fingerAngle;
    const half = CLOSED_HALF_LONG * Math.abs(Math.cos(n)) + CLOSED_HALF_WIDE * Math.abs(Math.sin(n));
    const o = out + half;
    return [
      hinge[0] + r * Math.sin(t) - o * Math.cos(t) + press * Math.cos(t),
      hinge[1] - r * Math.cos(t) - o * Math.sin(t) + press * Math.sin(t),
      z,
    ];
  };
  yield* descendOnto(v, f, at(f.yaw + v.joint(joint), DOOR_HALF_THICK + DOOR_GAP, 0), yaw, 1, 0.008);
  for (let i = 0; i < DOOR_STEPS; i++) {
    const q = v.joint(joint);
    if (q > DOOR_SHUT_Q) break;
    yield { pos: at(f.yaw + q, DOOR_HALF_THICK, DOOR_PRESS), yaw, grip: 1 };
  }
  // Back off along the closed door's outer normal before lifting.
  const e = v.eef();
  yield* moveTo(v, [e[0] - DOOR_BACK_OFF * Math.cos(f.yaw), e[1] - DOOR_BACK_OFF * Math.sin(f.yaw), e[2]], yaw, 1, 0.01, 15);
  yield* retreat(v, c, f, yaw, 1);
}

/**
 * Pinches the handle bar's top (level with the carcass top) and carries it round the hinge, turning the hand with
 * the door so the pinch stays square to the bar.
 */
function* dragDoorOpen(v: View, c: Ctx, f: Fixture, joint: string, hinge: V3): Skill {
  const site = `${f.owner}_door_handle`;
  const h0 = v.site(site);
  const q0 = v.joint(joint);
  // The handle in polar form about the hinge, at the current door angle.
  const rel0 = Math.atan2(h0[1] - hinge[1], h0[0] - hinge[0]) - q0;
  const reach = Math.hypot(h0[0] - hinge[0], h0[1] - hinge[1]);
  const yaw0 = fingersAlong(v, f.yaw - Math.PI / 2); // fingers along the closed door panel, across the bar
  const yawAt = (q: number) => yaw0 + (q - q0);
  yield* descendOnto(v, f, h0, yawAt(q0), -1, 0.005);
  yield* hold(v, CLOSE_STEPS, yawAt(q0), 1, h0);
  for (let i = 0; i < DOOR_STEPS; i++) {
    const q = v.joint(joint);
    if (q < DOOR_OPEN_Q) break;
    const t = q - DOOR_LEAD + rel0;
    yield { pos: [hinge[0] + reach * Math.cos(t), hinge[1] + reach * Math.sin(t), h0[2]], yaw: yawAt(q), grip: 1 };
  }
  const yaw = yawAt(v.joint(joint));
  yield* hold(v, RELEASE_STEPS, yaw, -1);
  yield* retreat(v, c, f, yaw, -1);
}

export function* knob(v: View, c: Ctx, joint: string, on: boolean): Skill {
  const f = fixtureOf(v, c, joint);
  const done = () => (on ? v.joint(joint) > KNOB_ON_Q : v.joint(joint) < KNOB_OFF_Q);
  if (on ? f.spec.isOn!(v.joint(joint)) : f.spec.isOff!(v.joint(joint))) return;
  // Work in the plane across the hinge axis (the fixture's local x) through the part's site: lateral e = local y,
  // and world up. A part at angle a (from up, toward -e) sits at r (-sin a, cos a); q rising turns it toward -e.
  const e: V3 = [-Math.sin(f.yaw), Math.cos(f.yaw), 0];
  const u: V3 = [Math.cos(f.yaw), Math.sin(f.yaw), 0];
  const origin = v.body(`${f.owner}_${f.spec.body}`).pos;
  const part = `${f.owner}_${on ? 'knob_tip' : 'knob_peg'}`;
  const p0 = v.site(part);
  const along = (p0[0] - origin[0]) * u[0] + (p0[1] - origin[1]) * u[1];
  const centre: V3 = [origin[0] + u[0] * along, origin[1] + u[1] * along, origin[2]];
  const planar = () => {
    const p = v.site(part);
    const pe = (p[0] - centre[0]) * e[0] + (p[1] - centre[1]) * e[1];
    const pz = p[2] - centre[2];
    return { pe, pz, a: Math.atan2(-pe, pz) };
  };
  // The grip site for the closed fingers' centre line at e and their bottom at z.
  const grip = (ge: number, bottom: number): V3 => [centre[0] + e[0] * ge, centre[1] + e[1] * ge, centre[2] + bottom + FINGER_BELOW];
  // Closed fingers along the axis: pushed across their axis they are rigid (pushed along it, an open finger gives
  // way to its 20 N actuator), and only 2.1 cm wide in the plane.
  const yaw = fingersAlong(v, f.yaw);
  if (on) {
    // The fingers' -e side pushes the pointer near its end along its arc toward -e; the pointer leans away.
    const push = (press: number, gap: number): V3 => {
      const { pe, pz, a } = planar();
      const r = POINTER_AT * Math.hypot(pe, pz);
      const [me, mz] = [-Math.cos(a), -Math.sin(a)];
      const back = POINTER_HALF + CONTACT_GAP + gap - press;
      // Their bottom corner goes behind the contact, slid down so their side, not the corner, touches.
      const ke = -r * Math.sin(a) - back * me + FACE_SHIFT * mz;
      const kz = r * Math.cos(a) - back * mz - FACE_SHIFT * Math.abs(me);
      return grip(ke + CLOSED_HALF_WIDE, kz);
    };
    yield* descendOnto(v, f, push(0, KNOB_APPROACH_GAP), yaw, 1, 0.005);
    for (let i = 0; i < KNOB_STEPS && !done(); i++) yield { pos: push(KNOB_PRESS, 0), yaw, grip: 1 };
  } else {
    // Turning back carries the peg clockwise over the top and down the +e side. While it is high the fingers'
    // side pushes it toward +e; once it is well past the top they press down on it from above (a side push there
    // would slide them down onto the hub).
    const side = (press: number, gap: number): V3 => {
      const { pe, pz } = planar();
      return grip(pe - PEG_R - CONTACT_GAP - gap - CLOSED_HALF_WIDE + press, pz - FACE_SHIFT);
    };
    const top = (press: number, lift: number): V3 => {
      const { pe, pz } = planar();
      return grip(pe, pz + PEG_R + CONTACT_GAP + lift - press);
    };
    if (planar().a > PEG_PRESS_DOWN_BELOW) {
      yield* descendOnto(v, f, side(0, KNOB_APPROACH_GAP), yaw, 1, 0.005);
      for (let i = 0; i < KNOB_STEPS && !done() && planar().a > PEG_PRESS_DOWN_BELOW; i++) yield { pos: side(KNOB_PRESS, 0), yaw, grip: 1 };
      // Up off the peg's side, then over it.
      const g = v.eef();
      yield* moveTo(v, [g[0], g[1], top(0, KNOB_APPROACH_GAP)[2]], yaw, 1, 0.004, 20);
      yield* moveTo(v, top(0, KNOB_APPROACH_GAP), yaw, 1, 0.004, 20);
    } else {
      yield* descendOnto(v, f, top(0, KNOB_APPROACH_GAP), yaw, 1, 0.005);
    }
    for (let i = 0; i < KNOB_STEPS && !done(); i++) yield { pos: top(KNOB_PRESS, 0), yaw, grip: 1 };
  }
  yield* retreat(v, c, f, yaw, 1);
}
