// Runs bowl-and-plate episodes in one VecEnv: seeded placements -> init states -> LIBERO's 10 wait steps ->
// a controller (the scripted expert here) -> On(bowl, plate) checked after every control step (success latches
// and ends the episode, as LIBERO's done does).
import { ROBOT_STATE, VecEnv } from '../sim/vec-env.ts';
import { renderBothCameras } from './task-env.ts';
import { BOWL, BowlPlateExpert, PLATE, bowlPlateMjcf, samplePlacement, TABLE_TOP_Z } from './bowl-plate.ts';

export const WAIT_STEPS = 10; // LIBERO eval: dummy [0,0,0,0,0,0,-1] steps before the policy acts
export const MAX_STEPS = 220; // libero_spatial's policy step budget

export interface EpisodeResult {
  seed: number;
  success: boolean;
  steps: number; // control steps after the wait steps, up to and including the first success
}

export class BowlPlateEpisodes {
  readonly env: VecEnv;
  private readonly bowlId: number;
  private readonly plateId: number;
  private readonly bowlQpos: number;
  private readonly plateQpos: number;
  private readonly pose = new Float64Array(7);
  private readonly platePose = new Float64Array(7);

  private constructor(env: VecEnv) {
    this.env = env;
    this.bowlId = env.bodyId(BOWL);
    this.plateId = env.bodyId(PLATE);
    this.bowlQpos = env.jointQposAddress(`${BOWL}_joint`);
    this.plateQpos = env.jointQposAddress(`${PLATE}_joint`);
  }

  static create(opts: { numEnvs: number; render?: { width: number; height: number } }): BowlPlateEpisodes {
    return new BowlPlateEpisodes(
      VecEnv.create({ mjcf: bowlPlateMjcf(), numEnvs: opts.numEnvs, name: 'bowl_plate', objects: [BOWL, PLATE], render: opts.render }),
    );
  }

  /** The init state [time, qpos, qvel] of a seeded placement: robot at its init pose, objects just above the table. */
  initState(seed: number): Float64Array {
    const p = samplePlacement(seed);
    this.env.reset(0);
    const state = this.env.getState(0);
    const qpos = 1; // state[0] is time
    const put = (adr: number, [x, y, yaw]: [number, number, number], dz: number) => {
      state.set([x, y, TABLE_TOP_Z + dz, Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)], qpos + adr);
    };
    put(this.bowlQpos, p.bowl, 0.002);
    put(this.plateQpos, p.plate, 0.002);
    return state;
  }

  /** LIBERO's On(bowl, plate): bowl origin not below the plate's, in contact, within 3 cm horizontally. */
  bowlOnPlate(k: number): boolean {
    this.env.bodyPose(k, this.bowlId, this.pose);
    this.env.bodyPose(k, this.plateId, this.platePose);
    return (
      this.platePose[2] <= this.pose[2] &&
      Math.hypot(this.pose[0] - this.platePose[0], this.pose[1] - this.platePose[1]) < 0.03 &&
      this.env.inContact(k, this.bowlId, this.plateId)
    );
  }

  /** Resets envs 0..seeds.length-1 to the seeds' placements and runs LIBERO's wait steps. */
  start(seeds: number[]): void {
    const n = this.env.numEnvs;
    if (seeds.length > n) throw new Error(`start: ${seeds.length} seeds for ${n} envs`);
    const states = seeds.map((s) => this.initState(s));
    states.forEach((s, k) => this.env.reset(k, s));
    const active = new Uint8Array(n);
    active.fill(1, 0, seeds.length);
    const wait = new Float32Array(n * 7);
    for (let k = 0; k < n; k++) wait[k * 7 + 6] = -1;
    for (let i = 0; i < WAIT_STEPS; i++) this.env.step(wait, active);
  }

  /**
   * Runs the scripted expert from the seeds' placements. An env stops at its first success unless
   * opts.stopOnSuccess is false; opts.record (maxSteps x numEnvs x 7) receives every action sent.
   */
  runExpert(seeds: number[], opts: { maxSteps?: number; stopOnSuccess?: boolean; record?: Float32Array } = {}): EpisodeResult[] {
    const maxSteps = opts.maxSteps ?? MAX_STEPS;
    const stopOnSuccess = opts.stopOnSuccess ?? true;
    const n = this.env.numEnvs;
    const robot = new Float64Array(n * ROBOT_STATE.size);
    const objects = new Float64Array(n * 2 * 7);
    const actions = new Float32Array(n * 7);
    const active = new Uint8Array(n);
    const expert = new BowlPlateExpert(n);
    const results: EpisodeResult[] = seeds.map((seed) => ({ seed, success: false, steps: maxSteps }));

    this.start(seeds);
    active.fill(1, 0, seeds.length);
    this.env.robotState(robot);
    this.env.objectPoses(objects);
    for (let k = 0; k < seeds.length; k++) expert.reset(k, robotRow(robot, k), objects.subarray(k * 14, k * 14 + 7));

    for (let t = 1; t <= maxSteps && active.includes(1); t++) {
      for (let k = 0; k < seeds.length; k++) {
        if (!active[k]) continue;
        const o = objects.subarray(k * 14, k * 14 + 14);
        expert.act(k, robotRow(robot, k), o.subarray(0, 7), o.subarray(7, 14), actions.subarray(k * 7, k * 7 + 7));
      }
      this.env.step(actions, active);
      opts.record?.set(actions, (t - 1) * n * 7);
      this.env.robotState(robot);
      this.env.objectPoses(objects);
      for (let k = 0; k < seeds.length; k++) {
        if (active[k] && !results[k].success && this.bowlOnPlate(k)) {
          results[k].success = true;
          results[k].steps = t;
          if (stopOnSuccess) active[k] = 0;
        }
      }
    }
    return results;
  }

  /** Both cameras after the wait steps of one placement, side by side, rotated as the policy sees them. */
  renderBothCameras(seed: number): Uint8Array {
    this.start([seed]);
    return renderBothCameras(this.env, 0).rgb;
  }

  close(): void {
    this.env.close();
  }
}

function robotRow(robot: Float64Array, k: number): Float64Array {
  return robot.subarray(k * ROBOT_STATE.size, (k + 1) * ROBOT_STATE.size);
}
