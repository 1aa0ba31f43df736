// Moving things: pick and place (top and rim grasps) onto an object, into or onto a region, and pushing a flat
// object along the table into a region.
import { drawerFrontOffset, type SceneInstance, type SceneRegion } from '../scene.ts';
import {
  CLOSE_STEPS,
  fingersAlong,
  hold,
  LIFT_CLEARANCE,
  MIN_CARRY,
  moveTo,
  RELEASE_STEPS,
  wrapHalf,
  type Ctx,
  type Skill,
  type V3,
  type View,
} from './core.ts';

const FAR_REACH = 0.7; // m from the robot base (horizontal): beyond it, grasp a round rim on the robot's side
const SPREAD = 0.6;
const ENCLOSURE_APPROACH = 0.06; // start the slide in this far in front of the cavity's region
const HALF_CLOSE_STEPS = 4; // from fully open to 2 cm per finger
const DRAWER_SIDE_MARGIN = 0.008; // between the object and a drawer's side wall
const OVER_RIM = 0.04; // the held object's bottom passes this far above a container's top
// Slide in this little clear of the cavity floor: the wrist, 20 cm above the grip, then just passes under the
// cavity's top, and the object drops onto its base instead of tipping off the front lip.
const SLIDE_CLEARANCE = 0.005;
const RELEASE_SHORT = 0.04; // let go this far short of the cavity's middle, so the wrist is only a little way under the top
const SINK = 0.02; // after letting go, lower the open fingers this much, off the cavity's top, before leaning out
const EXIT_TILT = 0.5; // rad the hand leans about the grip site to swing the wrist back out from under the top
const TILT_STEPS = 30; // held for the lean
const RIM_LIFT = 0.015; // then lift the fingertips this far above the object's rim
const REST_REACH = 0.45; // m in front of the robot base: where the hand goes after the cavity, at carry height

export function* pickPlace(v: View, c: Ctx, obj: SceneInstance, target: SceneRegion | SceneInstance): Skill {
  const grasp = obj.model.grasp!;
  const o = v.body(obj.name);
  // Fingers close along grasp.yaw (object frame): a box's narrow axis, or the radial direction of a rim, whose
  // wall on that side is the grasp point.
  // A wall that is the same all round is taken where the fingers already point (no wrist turn, which near the
  // robot runs into joint 7's limit). Otherwise, of the two walls on the line, take the one nearer the robot (at
  // -x): the hand then stays clear of whatever is behind the object.
  const home = c.scene.problem.init.find((x) => (x.predicate === 'in' || x.predicate === 'on') && x.args[0] === obj.name);
  const startRegion = home && c.scene.regions.get(home.args[1]);
  const standsOn = startRegion?.owner ?? home?.args[1];
  let a = grasp.anyYaw ? v.fingerAngle0 : o.yaw + grasp.yaw;
  const [bx, by] = c.scene.arena.robot.base;
  if (grasp.anyYaw && Math.hypot(o.pos[0] - bx, o.pos[1] - by) > FAR_REACH) {
    // Near the edge of the arm's reach every centimetre counts: take the wall facing the robot.
    a = Math.atan2(by - o.pos[1], bx - o.pos[0]);
  } else if (grasp.anyYaw) {
    // Either wall on the fingers' line: take the one farther from the nearest fixture (other than the one it
    // stands on), the hand being 20 cm long along that line.
    const others = c.scene.fixtures.filter((f) => f.name !== standsOn).map((f) => v.body(f.name).pos);
    const clearance = (t: number) => Math.min(1, ...others.map((p) => Math.hypot(o.pos[0] + Math.cos(t) * 0.1 - p[0], o.pos[1] + Math.sin(t) * 0.1 - p[1])));
    if (clearance(a + Math.PI) > clearance(a)) a += Math.PI;
  } else if (grasp.style === 'rim' && Math.cos(a) > 1e-6) a += Math.PI;
  // An object that starts inside a drawer is taken by the wall facing the drawer's middle,
  // where there is room for the outer finger.
  if (grasp.style === 'rim' && startRegion?.joint) {
    const mid = v.site(startRegion.name);
    if (Math.cos(a) * (mid[0] - o.pos[0]) + Math.sin(a) * (mid[1] - o.pos[1]) < 0) a += Math.PI;
  }
  // A cavity behind a door (the microwave) is entered from its front: hold a rim on the side facing out, so the
  // hand trails the object in.
  const enclosure = enclosureOf(c, target);
  if (enclosure && grasp.style === 'rim') a = v.body(enclosure.owner!).yaw + Math.PI;
  // That rim faces the robot, a quarter turn from the fingers' start: turn the way that keeps joint 7 off its limit
  // (the other way it runs into it on the carry toward the cavity).
  const yaw = enclosure ? fingersAlong(v, a) : wrapHalf(a - v.fingerAngle0);
  const r = grasp.style === 'rim' ? (grasp.rimRadius ?? 0) : 0;
  const g: V3 = [o.pos[0] + Math.cos(a) * r, o.pos[1] + Math.sin(a) * r, o.pos[2] + grasp.height];
  const { support } = placeTarget(v, c, target, obj);
  // Carry high enough that the object's bottom clears the target's container (a caddy's back wall, a basket rim).
  const container = 'model' in target ? target : c.scene.fixtures.concat(c.scene.objects).find((i) => i.name === target.owner);
  const rim = container && !enclosure ? v.body(container.name).pos[2] + container.model.height : c.surfaceZ;
  const carry = Math.max(c.surfaceZ + MIN_CARRY, support + grasp.height + LIFT_CLEARANCE, rim + grasp.height + OVER_RIM, g[2] + 0.1);
  yield* moveTo(v, [g[0], g[1], carry], yaw, -1, 0.02, 80);
  // A rim needs the fingers only a little apart: half close them (the ramp takes 8 steps end to end) and hold
  // that, so they fit between the wall and whatever stands next to it, like a drawer's side.
  const open = grasp.style === 'rim' ? 0 : -1;
  if (open === 0) yield* hold(v, HALF_CLOSE_STEPS, yaw, 1, [g[0], g[1], carry]);
  yield* moveTo(v, [g[0], g[1], g[2] + 0.06], yaw, open, 0.01, 40);
  yield* moveTo(v, g, yaw, open, 0.006, 40);
  yield* hold(v, CLOSE_STEPS, yaw, 1, g);
  yield* moveTo(v, [g[0], g[1], carry], yaw, 1, 0.02, 60);
  // A slot narrower one way (a caddy compartment) takes the object turned so its gripped (narrow) axis lies
  // across the slot; turn while lifted.
  let placeYaw = yaw;
  if (!enclosure && !('model' in target) && target.owner !== undefined && Math.abs(target.size[0] - target.size[1]) > 0.02) {
    const across = v.body(target.owner).yaw + (target.size[0] < target.size[1] ? 0 : Math.PI / 2);
    placeYaw = yaw + wrapHalf(across - (v.fingerAngle0 + yaw));
    yield* moveTo(v, [g[0], g[1], carry], placeYaw, 1, 0.02, 30);
  }
  // Keep the grasp offset: the object follows the hand.
  const e = v.eef();
  const held = v.body(obj.name).pos;
  const off: V3 = [e[0] - held[0], e[1] - held[1], e[2] - held[2]];
  const dest = placeTarget(v, c, target, obj);
  if (enclosure) {
    // Lower in front of the opening, slide in level just above the floor, let go, lean the wrist out and leave.
    const ownerYaw = v.body(enclosure.owner!).yaw;
    const back = enclosure.size[0] + obj.model.radius + ENCLOSURE_APPROACH;
    const low = dest.support + off[2] + SLIDE_CLEARANCE;
    const at = (d: number): V3 => [dest.xy[0] + off[0] - Math.cos(ownerYaw) * d, dest.xy[1] + off[1] - Math.sin(ownerYaw) * d, low];
    const outside = at(back);
    // Back out to the opening's line first, then across it, so the hand never sweeps past the fixture's corner.
    const now = v.eef();
    const t = (outside[0] - now[0]) * Math.cos(ownerYaw) + (outside[1] - now[1]) * Math.sin(ownerYaw);
    if (t < 0) yield* moveTo(v, [now[0] + t * Math.cos(ownerYaw), now[1] + t * Math.sin(ownerYaw), carry], placeYaw, 1, 0.015, 60);
    yield* moveTo(v, [outside[0], outside[1], carry], placeYaw, 1, 0.01, 100);
    yield* moveTo(v, outside, placeYaw, 1, 0.008, 60);
    yield* moveTo(v, at(RELEASE_SHORT), placeYaw, 1, 0.008, 80);
    yield* hold(v, RELEASE_STEPS, placeYaw, -1);
    yield* leaveCavity(v, ownerYaw, placeYaw, obj.model.height - grasp.height + RIM_LIFT, back, carry);
    // Back in front of the robot: from where the cavity left it, the arm would reach for a far door stretched out
    // (elbow straight, joint 4 at its limit) and stall short of a wide-open door.
    yield* moveTo(v, [bx + REST_REACH, by, carry], placeYaw, -1, 0.03, 60);
    return;
  }
  yield* moveTo(v, [dest.xy[0] + off[0], dest.xy[1] + off[1], carry], placeYaw, 1, 0.008, 100);
  yield* moveTo(v, [dest.xy[0] + off[0], dest.xy[1] + off[1], dest.support + off[2] + 0.015], placeYaw, 1, 0.008, 60);
  yield* hold(v, RELEASE_STEPS, placeYaw, -1);
  const up = v.eef();
  yield* moveTo(v, [up[0], up[1], carry], placeYaw, -1, 0.02, 30);
}

/**
 * Slid in low, the wrist (20 cm above the grip) has passed under the cavity's top, with no room to lift the fingers
 * off the rim they straddle. Lean the hand about the grip site so the wrist swings back out and down, lift the
 * fingers clear of the rim, back out along the axis, and straighten up over the table.
 */
function* leaveCavity(v: View, ownerYaw: number, yaw: number, rise: number, back: number, carry: number): Skill {
  const u = [Math.cos(ownerYaw), Math.sin(ownerYaw)];
  // About the horizontal axis across the opening, the sense that takes the wrist (above the grip) toward -u.
  const tilt: V3 = [u[1] * EXIT_TILT, -u[0] * EXIT_TILT, 0];
  const top = v.eef();
  // First sink the open fingers beside the wall, taking the wrist off the cavity's top so it can swing back.
  const e: V3 = [top[0], top[1], top[2] - SINK];
  yield* moveTo(v, e, yaw, -1, 0.005, 20);
  yield* hold(v, TILT_STEPS, yaw, -1, e, tilt);
  const up: V3 = [e[0], e[1], e[2] + SINK + rise];
  yield* moveTo(v, up, yaw, -1, 0.01, 30, tilt);
  const out: V3 = [up[0] - u[0] * back, up[1] - u[1] * back, up[2]];
  yield* moveTo(v, out, yaw, -1, 0.01, 60, tilt);
  yield* moveTo(v, [out[0], out[1], carry], yaw, -1, 0.02, 40);
}

/** The target region when it lies in a cavity behind a door (its owner has a door joint), else undefined. */
function enclosureOf(c: Ctx, target: SceneRegion | SceneInstance): SceneRegion | undefined {
  if ('model' in target || target.owner === undefined) return undefined;
  return [...c.scene.joints.values()].some((j) => j.owner === target.owner && j.spec.kind === 'door') ? target : undefined;
}

/**
 * Where a held object's origin should end up: xy, and the z of the surface it will rest on. In a region, the spot
 * on a 3 x 3 grid (kept inside the region) farthest from every other object, so a second item does not land on
 * the first.
 */
function placeTarget(v: View, c: Ctx, target: SceneRegion | SceneInstance, held: SceneInstance): { support: number; xy: [number, number] } {
  if ('model' in target) {
    const t = v.body(target.name);
    return { support: t.pos[2] + target.model.height, xy: [t.pos[0], t.pos[1]] };
  }
  const s = v.site(target.name);
  const support = target.owner === undefined ? c.surfaceZ : s[2] - target.size[2];
  // Behind a door: the middle of the cavity, which the slide-in path is measured from.
  if (enclosureOf(c, target)) return { support, xy: [s[0], s[1]] };
  if (target.joint && target.owner) {
    // An open drawer: only its front part is out of the cabinet, so set the object down there, on the side away
    // from the handles of the other drawers (they stick out above it).
    const yaw = v.body(target.owner).yaw;
    const out = drawerFrontOffset(target, held.model.radius);
    const side = Math.max(0, target.size[1] - held.model.radius - DRAWER_SIDE_MARGIN);
    const handles = [...c.scene.joints]
      .filter(([name, j]) => j.owner === target.owner && j.spec.kind === 'drawer' && name !== target.joint)
      .map(([name]) => v.site(`${name}_handle`));
    let best: [number, number] = [s[0], s[1]];
    let bestGap = -1;
    for (const f of [-1, 0, 1]) {
      const x = s[0] - Math.cos(yaw) * out - Math.sin(yaw) * f * side;
      const y = s[1] - Math.sin(yaw) * out + Math.cos(yaw) * f * side;
      const gap = Math.min(1, ...handles.map((h) => Math.abs(-Math.sin(yaw) * (h[0] - x) + Math.cos(yaw) * (h[1] - y))));
      if (gap > bestGap) {
        bestGap = gap;
        best = [x, y];
      }
    }
    return { support, xy: best };
  }
  const others = c.scene.objects.filter((o) => o.name !== held.name && o.name !== target.owner).map((o) => v.body(o.name).pos);
  // Spots keep the footprint inside the region, but spread at least over its middle 60% so two things fit
  // side by side (two moka pots on one burner plate).
  const reach = [0, 1].map((i) => Math.max(target.size[i] - held.model.radius, SPREAD * target.size[i]));
  let best: [number, number] = [s[0], s[1]];
  let bestGap = -1;
  for (const fx of [-1, 0, 1]) {
    for (const fy of [-1, 0, 1]) {
      const x = s[0] + fx * reach[0];
      const y = s[1] + fy * reach[1];
      const gap = Math.min(1, ...others.map((p) => Math.hypot(p[0] - x, p[1] - y)));
      // Prefer the centre unless it is crowded.
      const score = gap - 0.002 * (Math.abs(fx) + Math.abs(fy));
      if (score > bestGap) {
        bestGap = score;
        best = [x, y];
      }
    }
  }
  return { support, xy: best };
}

/** Pushes a flat object (no grasp) along the table into a table region, with the closed gripper. */
export function* push(v: View, c: Ctx, obj: SceneInstance, region: SceneRegion): Skill {
  const low = c.surfaceZ + 0.012; // fingertips below the rim of a plate
  for (let round = 0; round < 3; round++) {
    const o = v.body(obj.name).pos;
    const s = v.site(region.name);
    const d: [number, number] = [s[0] - o[0], s[1] - o[1]];
    const n = Math.hypot(d[0], d[1]);
    if (n < 0.01) break;
    const u = [d[0] / n, d[1] / n];
    // Fingers side by side across the push: a wide, steady pusher, and the hand's long side stays on the line
    // of motion instead of sweeping sideways into neighbours.
    const yaw = wrapHalf(Math.atan2(u[1], u[0]) + Math.PI / 2 - v.fingerAngle0);
    const back = obj.model.radius + 0.03;
    const start: V3 = [o[0] - u[0] * back, o[1] - u[1] * back, low];
    yield* moveTo(v, [start[0], start[1], c.surfaceZ + 0.12], yaw, 1, 0.015, 80);
    yield* moveTo(v, start, yaw, 1, 0.008, 40);
    const end: V3 = [s[0] - u[0] * (obj.model.radius + 0.01), s[1] - u[1] * (obj.model.radius + 0.01), low];
    yield* moveTo(v, end, yaw, 1, 0.006, 80);
    const e = v.eef();
    yield* moveTo(v, [e[0] - u[0] * 0.03, e[1] - u[1] * 0.03, c.surfaceZ + 0.12], yaw, 1, 0.02, 30);
  }
}
