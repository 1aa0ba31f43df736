// A task's parallel envs: its scene compiled once into a VecEnv with K sim states, reset from init states
// (qpos, qvel and per-env fixture poses), LIBERO's wait steps, and the goal checked after every control step.
import { VecEnv, type RenderSpec } from '../sim/vec-env.ts';
import { compileGoal, type AtomCheck } from './predicates.ts';
import type { TaskScene } from './scene.ts';

/** LIBERO eval: dummy [0,0,0,0,0,0,-1] steps (gripper opening) before the policy acts. */
export const WAIT_STEPS = 10;

/** One init state: [time, qpos, qvel] (LIBERO's row layout) plus the fixtures' poses (nmocap x pos, quat wxyz). */
export interface InitState {
  state: Float64Array;
  fixtures: Float64Array;
}

export class TaskEnv {
  readonly env: VecEnv;
  readonly scene: TaskScene;
  /** The goal's atoms and their conjunction, on env k's current state. */
  readonly atoms: AtomCheck[];
  readonly success: AtomCheck;

  private constructor(scene: TaskScene, env: VecEnv) {
    this.scene = scene;
    this.env = env;
    const goal = compileGoal(scene, env);
    this.atoms = goal.atoms;
    this.success = goal.check;
  }

  static create(scene: TaskScene, opts: { numEnvs: number; render?: RenderSpec; stepMode?: 'fast' | 'rs14' }): TaskEnv {
    const env = VecEnv.create({
      mjcf: scene.mjcf,
      numEnvs: opts.numEnvs,
      name: scene.problem.file,
      objects: scene.objects.map((o) => o.name),
      render: opts.render,
      stepMode: opts.stepMode,
    });
    return new TaskEnv(scene, env);
  }

  get numEnvs(): number {
    return this.env.numEnvs;
  }

  reset(k: number, init: InitState): void {
    this.env.reset(k, init.state, init.fixtures);
  }

  /** Resets envs 0..inits.length-1 and runs the wait steps on them (the others stay as they are). */
  start(inits: InitState[]): void {
    const n = this.env.numEnvs;
    if (inits.length > n) throw new RangeError(`${this.scene.problem.file}: ${inits.length} init states for ${n} envs`);
    inits.forEach((s, k) => this.reset(k, s));
    const active = new Uint8Array(n);
    active.fill(1, 0, inits.length);
    const wait = new Float32Array(n * 7);
    for (let k = 0; k < n; k++) wait[k * 7 + 6] = -1;
    for (let i = 0; i < WAIT_STEPS; i++) this.env.step(wait, active);
  }

  /** Both cameras of env k side by side (agentview left), rotated 180 degrees as the policy sees them. */
  renderBothCameras(k: number): { rgb: Uint8Array; width: number; height: number } {
    return renderBothCameras(this.env, k);
  }

  close(): void {
    this.env.close();
  }
}

/** Both cameras of env k of a VecEnv side by side (agentview left), rotated 180 degrees as the policy sees them. */
export function renderBothCameras(env: VecEnv, k: number): { rgb: Uint8Array; width: number; height: number } {
  const { width: w, height: h } = env.renderSize();
  const cams = ['agentview', 'robot0_eye_in_hand'].map((c) => {
    const img = new Uint8Array(w * h * 3);
    env.render(k, c, img, { flip180: true });
    return img;
  });
  const out = new Uint8Array(2 * w * h * 3);
  for (let y = 0; y < h; y++) {
    out.set(cams[0].subarray(y * w * 3, (y + 1) * w * 3), y * 2 * w * 3);
    out.set(cams[1].subarray(y * w * 3, (y + 1) * w * 3), y * 2 * w * 3 + w * 3);
  }
  return { rgb: out, width: 2 * w, height: h };
}
