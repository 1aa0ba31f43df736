// The bowl-and-plate tabletop (libero_spatial style): a black bowl and a plate built from primitives, a seeded
// placement sampler, LIBERO's On(bowl, plate) check, and a scripted pick-and-place expert that acts only through
// the 7-dim OSC_POSE action. It is the first end-to-end scene; the BDDL task suites generalise it.
import { Rng } from '../rng.ts';
import { ROBOT_STATE, VecEnv } from '../sim/vec-env.ts';
import { agentviewCameraXml, composeScene, tableXml } from '../sim/mjcf/scene.ts';
import { orientationError } from './experts/core.ts';

export { orientationError };

export const TABLE_TOP_Z = 0.9;
export const BOWL = 'akita_black_bowl_1';
export const PLATE = 'plate_1';

// Bowl: LIBERO's akita_black_bowl is 10.7 cm across and 5.1 cm tall; ours is a square base and a ring of
// 12 wall boxes, so the Panda fingers can straddle the wall the way demonstrators grasp the rim.
const BOWL_RADIUS = 0.048; // wall centre line
const BOWL_HEIGHT = 0.051;
const BOWL_WALLS = 12;
// Plate: 13.8 cm across and 1.9 cm tall in LIBERO; a flat box collider under a round visual.
const PLATE_HALF = 0.065;
const PLATE_HEIGHT = 0.016;

// LIBERO's object contact parameters (libero.md §6).
const OBJECT_CONTACT = 'friction="0.95 0.3 0.1" solref="0.001 1" solimp="0.998 0.998 0.001" density="100"';

function bowlXml(): string {
  const walls: string[] = [];
  const halfChord = BOWL_RADIUS * Math.tan(Math.PI / BOWL_WALLS) + 0.002;
  const hz = BOWL_HEIGHT / 2 - 0.003;
  for (let i = 0; i < BOWL_WALLS; i++) {
    const a = (2 * Math.PI * i) / BOWL_WALLS;
    walls.push(
      `<geom name="${BOWL}_wall${i}" type="box" size="0.004 ${halfChord.toFixed(5)} ${hz.toFixed(4)}" ` +
        `pos="${(BOWL_RADIUS * Math.cos(a)).toFixed(5)} ${(BOWL_RADIUS * Math.sin(a)).toFixed(5)} ${(hz + 0.006).toFixed(4)}" ` +
        `euler="0 0 ${a.toFixed(5)}" rgba="0.08 0.08 0.08 1" ${OBJECT_CONTACT}/>`,
    );
  }
  return `
    <body name="${BOWL}" pos="0 0 ${TABLE_TOP_Z}">
      <joint name="${BOWL}_joint" type="free" damping="0.0005"/>
      <geom name="${BOWL}_visual" type="cylinder" size="${BOWL_RADIUS + 0.005} ${BOWL_HEIGHT / 2}" pos="0 0 ${BOWL_HEIGHT / 2}"
            group="1" contype="0" conaffinity="0" mass="0" rgba="0.06 0.06 0.06 1"/>
      <geom name="${BOWL}_base" type="box" size="0.034 0.034 0.003" pos="0 0 0.003" rgba="0.08 0.08 0.08 1" ${OBJECT_CONTACT}/>
      ${walls.join('\n      ')}
    </body>`;
}

function plateXml(): string {
  return `
    <body name="${PLATE}" pos="0 0 ${TABLE_TOP_Z}">
      <joint name="${PLATE}_joint" type="free" damping="0.0005"/>
      <geom name="${PLATE}_visual" type="cylinder" size="0.069 ${PLATE_HEIGHT / 2}" pos="0 0 ${PLATE_HEIGHT / 2}"
            group="1" contype="0" conaffinity="0" mass="0" rgba="0.95 0.95 0.92 1"/>
      <geom name="${PLATE}_collision" type="box" size="${PLATE_HALF} ${PLATE_HALF} ${PLATE_HEIGHT / 2}" pos="0 0 ${PLATE_HEIGHT / 2}"
            rgba="0.92 0.92 0.88 1" ${OBJECT_CONTACT}/>
    </body>`;
}

/** The scene's MJCF: LIBERO's generic table (spatial/goal suites) with the mounted Panda, a bowl and a plate. */
export function bowlPlateMjcf(): string {
  return composeScene({
    name: 'bowl_plate',
    robot: { base: [-0.66, 0, 0.912], mount: true },
    worldbody: tableXml({ pos: [0, 0, TABLE_TOP_Z] }) + agentviewCameraXml() + bowlXml() + plateXml(),
  });
}

export interface Placement {
  bowl: [number, number, number]; // x, y, yaw
  plate: [number, number, number];
}

/** Seeded placements: the bowl in front-left, the plate front-right of the robot, never overlapping. */
export function samplePlacement(seed: number): Placement {
  const rng = new Rng(seed * 7919 + 17);
  for (;;) {
    const bowl: [number, number, number] = [rng.range(-0.12, 0.06), rng.range(-0.22, -0.04), rng.range(-Math.PI, Math.PI)];
    const plate: [number, number, number] = [rng.range(-0.1, 0.08), rng.range(0.06, 0.22), rng.range(-0.3, 0.3)];
    if (Math.hypot(bowl[0] - plate[0], bowl[1] - plate[1]) > 0.2) return { bowl, plate };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Scripted expert. One state machine per env; it reads only what a policy could (robot state, object poses) and
// writes the 7-dim OSC action [dx, dy, dz, dax, day, daz, grip] in [-1, 1].

enum Phase {
  Approach,
  Descend,
  Close,
  Lift,
  Carry,
  Lower,
  Release,
  Retreat,
  Done,
}

const GRASP_Z = 0.03; // grip site height above the table when closing on the bowl wall
const CARRY_Z = 0.2;
const POS_GAIN = 1.6; // action units per 0.05 m of position error
const ROT_GAIN = 1.0; // action units per 0.5 rad of orientation error

interface ExpertEnv {
  phase: Phase;
  phaseSteps: number;
  grasp: Float64Array; // world grasp point on the bowl wall
  holdOffset: Float64Array; // grip site minus bowl origin, measured once lifted
  homeQuat: Float64Array; // eef orientation (xyzw) to hold
}

export class BowlPlateExpert {
  private readonly envs: ExpertEnv[];

  constructor(readonly numEnvs: number) {
    this.envs = Array.from({ length: numEnvs }, () => ({
      phase: Phase.Approach,
      phaseSteps: 0,
      grasp: new Float64Array(3),
      holdOffset: new Float64Array(3),
      homeQuat: new Float64Array(4),
    }));
  }

  /** Call after env k was reset; robot is this env's ROBOT_STATE row, bowl its pose (pos + quat xyzw). */
  reset(k: number, robot: Float64Array, bowl: Float64Array): void {
    const e = this.envs[k];
    e.phase = Phase.Approach;
    e.phaseSteps = 0;
    e.homeQuat.set(robot.subarray(ROBOT_STATE.eefQuat, ROBOT_STATE.eefQuat + 4));
    // The fingers slide along the hand's y axis: grasp the wall where that axis is radial, so they straddle it.
    const axis = handYAxis(e.homeQuat);
    e.grasp[0] = bowl[0] + axis[0] * BOWL_RADIUS;
    e.grasp[1] = bowl[1] + axis[1] * BOWL_RADIUS;
    e.grasp[2] = TABLE_TOP_Z + GRASP_Z;
  }

  done(k: number): boolean {
    return this.envs[k].phase === Phase.Done;
  }

  /** Writes env k's action into out[0..7). */
  act(k: number, robot: Float64Array, bowl: Float64Array, plate: Float64Array, out: Float32Array): void {
    const e = this.envs[k];
    const eef = robot.subarray(ROBOT_STATE.eefPos, ROBOT_STATE.eefPos + 3);
    const target = [eef[0], eef[1], eef[2]];
    let grip = -1;
    const next = (p: Phase) => {
      e.phase = p;
      e.phaseSteps = 0;
    };
    e.phaseSteps++;
    switch (e.phase) {
      case Phase.Approach:
        target[0] = e.grasp[0];
        target[1] = e.grasp[1];
        target[2] = e.grasp[2] + 0.12;
        if (dist(eef, target) < 0.01 || e.phaseSteps > 60) next(Phase.Descend);
        break;
      case Phase.Descend:
        target[0] = e.grasp[0];
        target[1] = e.grasp[1];
        target[2] = e.grasp[2];
        if (dist(eef, target) < 0.006 || e.phaseSteps > 40) next(Phase.Close);
        break;
      case Phase.Close:
        target[0] = e.grasp[0];
        target[1] = e.grasp[1];
        target[2] = e.grasp[2];
        grip = 1;
        if (e.phaseSteps >= 12) next(Phase.Lift);
        break;
      case Phase.Lift:
        target[0] = e.grasp[0];
        target[1] = e.grasp[1];
        target[2] = TABLE_TOP_Z + CARRY_Z;
        grip = 1;
        if (eef[2] > TABLE_TOP_Z + CARRY_Z - 0.02 || e.phaseSteps > 40) {
          for (let i = 0; i < 3; i++) e.holdOffset[i] = eef[i] - bowl[i];
          next(Phase.Carry);
        }
        break;
      case Phase.Carry:
        target[0] = plate[0] + e.holdOffset[0];
        target[1] = plate[1] + e.holdOffset[1];
        target[2] = TABLE_TOP_Z + CARRY_Z;
        grip = 1;
        if (Math.hypot(eef[0] - target[0], eef[1] - target[1]) < 0.006 || e.phaseSteps > 80) next(Phase.Lower);
        break;
      case Phase.Lower:
        target[0] = plate[0] + e.holdOffset[0];
        target[1] = plate[1] + e.holdOffset[1];
        target[2] = plate[2] + PLATE_HEIGHT + e.holdOffset[2] + 0.01;
        grip = 1;
        if (dist(eef, target) < 0.006 || e.phaseSteps > 50) next(Phase.Release);
        break;
      case Phase.Release:
        grip = -1;
        if (e.phaseSteps >= 10) next(Phase.Retreat);
        break;
      case Phase.Retreat:
        target[2] = TABLE_TOP_Z + CARRY_Z;
        if (eef[2] > TABLE_TOP_Z + CARRY_Z - 0.03 || e.phaseSteps > 30) next(Phase.Done);
        break;
      case Phase.Done:
        break;
    }
    for (let i = 0; i < 3; i++) out[i] = clamp(((target[i] - eef[i]) / 0.05) * POS_GAIN);
    const rot = orientationError(e.homeQuat, robot.subarray(ROBOT_STATE.eefQuat, ROBOT_STATE.eefQuat + 4));
    for (let i = 0; i < 3; i++) out[3 + i] = clamp((rot[i] / 0.5) * ROT_GAIN);
    out[6] = grip;
  }
}

function clamp(v: number): number {
  return v > 1 ? 1 : v < -1 ? -1 : v;
}

function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** World direction of the hand's local y axis (the fingers' sliding axis) from a quaternion xyzw. */
function handYAxis(q: ArrayLike<number>): [number, number] {
  const [x, y, z, w] = [q[0], q[1], q[2], q[3]];
  const ax = 2 * (x * y - w * z);
  const ay = 1 - 2 * (x * x + z * z);
  const n = Math.hypot(ax, ay) || 1;
  return [ax / n, ay / n];
}
