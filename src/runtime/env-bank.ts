// The envs of one task inside an env actor. 'reuse' (riptide): the task's scene is compiled once into one VecEnv of
// K sim states with one render context, and a reset restores an init state. 'rebuild' (LIBERO's hard reset, kept for
// `bench env-reuse`): every env is its own VecEnv, and every reset re-reads the BDDL, regenerates the MJCF,
// recompiles it, creates a new render context and renders the reset observation, as robosuite's reset() does.
import { ROBOT_STATE } from '../sim/vec-env.ts';
import { openTask, taskInitStates, type Task } from '../tasks/task.ts';
import { TaskEnv, WAIT_STEPS, type InitState } from '../tasks/task-env.ts';
import { ACTION_DIM, CAMERAS, imageBytes, type RuntimeSettings } from './layouts.ts';

const ONE = new Uint8Array([1]);

export class EnvBank {
  readonly task: Task;
  readonly numEnvs: number;
  readonly inits: InitState[];
  readonly maxSteps: number;
  /** Milliseconds spent compiling scenes and creating render contexts at construction (rebuild resets count as resets). */
  buildMs = 0;
  readonly #settings: RuntimeSettings;
  readonly #envs: TaskEnv[];
  readonly #robot: Float64Array;

  constructor(ref: string, settings: RuntimeSettings) {
    this.task = openTask(ref);
    this.numEnvs = settings.numParallelEnvs;
    this.maxSteps = settings.maxEpisodeLength ?? this.task.maxSteps;
    this.#settings = settings;
    const count = settings.resetMode === 'reuse' ? 1 : this.numEnvs;
    this.#envs = Array.from({ length: count }, () => this.#build(settings.resetMode === 'reuse' ? this.numEnvs : 1));
    this.inits = taskInitStates(this.task, this.#envs[0]);
    this.#robot = new Float64Array(this.numEnvs * ROBOT_STATE.size);
  }

  #build(numEnvs: number): TaskEnv {
    const t0 = performance.now();
    const env = TaskEnv.create(this.task.scene, { numEnvs, render: this.#settings.image, stepMode: this.#settings.stepMode });
    this.buildMs += performance.now() - t0;
    return env;
  }

  #at(k: number): [TaskEnv, number] {
    return this.#envs.length === 1 ? [this.#envs[0], k] : [this.#envs[k], 0];
  }

  /** Restores init state `init` in env k (rebuild mode: a freshly compiled env). */
  reset(k: number, init: number): void {
    const state = this.inits[init];
    if (!state) throw new RangeError(`${this.task.ref}: init state ${init} does not exist (the task has ${this.inits.length})`);
    const [env, i] = this.#at(k);
    if (this.#settings.resetMode === 'rebuild') {
      env.close();
      const fresh = TaskEnv.create(openTask(this.task.ref).scene, { numEnvs: 1, render: this.#settings.image, stepMode: this.#settings.stepMode });
      this.#envs[k] = fresh;
      fresh.reset(0, state);
      this.render(k, new Uint8Array(imageBytes(this.#settings)));
      return;
    }
    env.reset(i, state);
  }

  /** LIBERO's wait steps (gripper opening, arm still) on envs ks. */
  wait(ks: number[]): void {
    const actions = new Float32Array(this.numEnvs * ACTION_DIM);
    for (let k = 0; k < this.numEnvs; k++) actions[k * ACTION_DIM + 6] = -1;
    const active = new Uint8Array(this.numEnvs);
    for (const k of ks) active[k] = 1;
    for (let i = 0; i < WAIT_STEPS; i++) this.step(actions, active);
  }

  /** One control step of the envs with active[k] != 0; actions numEnvs x 7. */
  step(actions: Float32Array, active: Uint8Array): void {
    if (this.#envs.length === 1) {
      this.#envs[0].env.step(actions, active);
      return;
    }
    for (let k = 0; k < this.numEnvs; k++) {
      if (active[k]) this.#envs[k].env.step(actions.subarray(k * ACTION_DIM, (k + 1) * ACTION_DIM), ONE);
    }
  }

  /** Reuse mode: steps every env T times in C++ with actions T x numEnvs x 7 (no JS per step); returns ms. */
  nativeLoop(actions: Float32Array, T: number): number {
    if (this.#envs.length !== 1) throw new RangeError('nativeLoop needs reset mode reuse (one VecEnv)');
    return this.#envs[0].env.runNativeLoop(actions, T);
  }

  success(k: number): boolean {
    const [env, i] = this.#at(k);
    return env.success(i);
  }

  /** The 8-dim policy state of env k: eef position, eef axis-angle, gripper finger qpos. */
  state(k: number, out: Float32Array): void {
    const [env, i] = this.#at(k);
    env.env.robotState(this.#robot.subarray(0, env.numEnvs * ROBOT_STATE.size));
    const r = i * ROBOT_STATE.size;
    for (let j = 0; j < 3; j++) {
      out[j] = this.#robot[r + ROBOT_STATE.eefPos + j];
      out[3 + j] = this.#robot[r + ROBOT_STATE.eefAxisAngle + j];
    }
    out[6] = this.#robot[r + ROBOT_STATE.gripperQpos];
    out[7] = this.#robot[r + ROBOT_STATE.gripperQpos + 1];
  }

  /** Both cameras of env k into out (agentview first), each H x W x 3, rotated 180 degrees as the policy sees them. */
  render(k: number, out: Uint8Array): void {
    const [env, i] = this.#at(k);
    const n = this.#settings.image.width * this.#settings.image.height * 3;
    CAMERAS.forEach((cam, c) => env.env.render(i, cam, out.subarray(c * n, (c + 1) * n), { flip180: true }));
  }

  close(): void {
    for (const env of this.#envs) env.close();
  }
}
