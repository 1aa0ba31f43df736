// VecEnv: K independent MuJoCo sim states of one compiled model (cpp/sim/vec_env.h), stepped at 20 Hz with the
// Panda OSC_POSE controller and gripper ramp of robosuite 1.4, with optional offscreen rendering.
// This facade validates options, names the env in every error, and guards use after close(); the data path is
// caller-owned typed arrays (SharedArrayBuffer-backed ones included) passed straight to native code.
import { RiptideError } from '../errors.ts';
import { native } from '../native.ts';
import type { NativeVecEnv } from './native-types.ts';

/** Per-env layout of robotState() (float64). eefQuat is xyzw of body robot0_right_hand (robosuite robot0_eef_quat). */
export const ROBOT_STATE = { eefPos: 0, eefQuat: 3, eefAxisAngle: 7, gripperQpos: 10, jointPos: 12, jointVel: 19, size: 26 } as const;
export const ACTION_DIM = 7;
export const CONTROL_HZ = 20;
export const SUBSTEPS = 25;

export interface RenderSpec {
  width: number;
  height: number;
  /** 4x MSAA (robosuite's default); ~1.7x the render cost on llvmpipe. Default false. */
  msaa?: boolean;
}

export interface VecEnvOptions {
  mjcf: string;
  numEnvs: number;
  /** For error messages, e.g. the task name. */
  name?: string;
  /** Free-joint body names whose poses objectPoses() reports, in this order. */
  objects?: string[];
  /** Omitted => no GL context is created and render() throws. */
  render?: RenderSpec;
  /** 'fast' (default): 25 x (mj_step1, control, mj_step2). 'rs14': robosuite 1.4's 25 x (mj_forward, control, mj_step). */
  stepMode?: 'fast' | 'rs14';
}

export class VecEnvError extends RiptideError {
  override name = 'VecEnvError';
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

export class VecEnv {
  readonly numEnvs: number;
  readonly nq: number;
  readonly nv: number;
  /** 1 + nq + nv: [time, qpos, qvel], like LIBERO init states. */
  readonly stateSize: number;
  /** Mocap bodies (task fixtures): each env holds its own poses, 7 values each (pos + quat wxyz). */
  readonly nmocap: number;
  readonly objects: readonly string[];
  readonly name: string;
  #env: NativeVecEnv | undefined;
  readonly #renderSpec: RenderSpec | undefined;

  private constructor(env: NativeVecEnv, opts: VecEnvOptions) {
    this.#env = env;
    this.numEnvs = env.numEnvs;
    this.nq = env.nq;
    this.nv = env.nv;
    this.stateSize = env.stateSize;
    this.nmocap = env.nmocap;
    this.objects = Object.freeze([...(opts.objects ?? [])]);
    this.name = opts.name ?? 'env';
    this.#renderSpec = opts.render ? { ...opts.render } : undefined;
  }

  /** Compiles opts.mjcf once and creates numEnvs sim states. Throws VecEnvError with MuJoCo's message for bad MJCF. */
  static create(opts: VecEnvOptions): VecEnv {
    const name = opts?.name ?? 'env';
    if (typeof opts !== 'object' || opts === null) throw new VecEnvError('VecEnv.create: expected an options object');
    if (typeof opts.mjcf !== 'string' || opts.mjcf.length === 0) {
      throw new VecEnvError(`${name}: options.mjcf must be a non-empty MJCF string (see src/sim/mjcf/scene.ts composeScene)`);
    }
    if (!isInt(opts.numEnvs) || opts.numEnvs < 1 || opts.numEnvs > 4096) {
      throw new VecEnvError(`${name}: options.numEnvs must be an integer in 1..4096, got ${String(opts.numEnvs)}`);
    }
    if (opts.render) {
      const { width, height } = opts.render;
      if (!isInt(width) || !isInt(height) || width < 1 || height < 1 || width > 4096 || height > 4096) {
        throw new VecEnvError(`${name}: options.render width/height must be integers in 1..4096 (e.g. 128, 224, 256), got ${width}x${height}`);
      }
    }
    if (opts.stepMode !== undefined && opts.stepMode !== 'fast' && opts.stepMode !== 'rs14') {
      throw new VecEnvError(`${name}: options.stepMode must be 'fast' or 'rs14', got '${String(opts.stepMode)}'`);
    }
    let env: NativeVecEnv;
    try {
      env = new (native().sim.VecEnv)({ ...opts, name });
    } catch (e) {
      throw new VecEnvError((e as Error).message);
    }
    return new VecEnv(env, opts);
  }

  #native(): NativeVecEnv {
    if (!this.#env) throw new VecEnvError('VecEnv is closed');
    return this.#env;
  }

  #k(k: number, what: string): void {
    if (!isInt(k) || k < 0 || k >= this.numEnvs) {
      throw new RangeError(`${this.name}: ${what}: env index must be an integer in 0..${this.numEnvs - 1}, got ${String(k)}`);
    }
  }

  get closed(): boolean {
    return this.#env === undefined;
  }

  /**
   * Restores initState ([time, qpos, qvel], stateSize values) or, without it, the robot's init pose, and the mocap
   * bodies' poses (nmocap*7: pos + quat wxyz; omitted = as compiled); then mj_forward.
   */
  reset(k: number, initState?: Float64Array, fixturePoses?: Float64Array): void {
    const env = this.#native();
    this.#k(k, 'reset');
    if (initState !== undefined && (!(initState instanceof Float64Array) || initState.length !== this.stateSize)) {
      throw new RangeError(
        `${this.name}: reset(k, initState): initState must be a Float64Array of 1+nq+nv = ${this.stateSize} values ` +
          `[time, qpos(${this.nq}), qvel(${this.nv})], got ${initState instanceof Float64Array ? initState.length + ' values' : Object.prototype.toString.call(initState)}`,
      );
    }
    if (fixturePoses !== undefined && (!(fixturePoses instanceof Float64Array) || fixturePoses.length !== 7 * this.nmocap)) {
      throw new RangeError(`${this.name}: reset(k, initState, fixturePoses): fixturePoses must be a Float64Array of nmocap*7 = ${7 * this.nmocap} values`);
    }
    env.reset(k, initState, fixturePoses);
  }

  /** One 20 Hz control step (25 substeps) for every env with active[k] != 0. actions: numEnvs*7 in [-1, 1]. */
  step(actions: Float32Array, active?: Uint8Array): void {
    const env = this.#native();
    if (!(actions instanceof Float32Array) || actions.length !== this.numEnvs * ACTION_DIM) {
      throw new TypeError(
        `${this.name}: step(actions): actions must be a Float32Array of numEnvs*7 = ${this.numEnvs * ACTION_DIM} values, got ` +
          (actions instanceof Float32Array ? `${actions.length}` : Object.prototype.toString.call(actions)),
      );
    }
    if (active !== undefined && (!(active instanceof Uint8Array) || active.length !== this.numEnvs)) {
      throw new TypeError(`${this.name}: step(actions, active): active must be a Uint8Array of numEnvs = ${this.numEnvs} flags`);
    }
    env.step(actions, active);
  }

  /** [time, qpos, qvel] of env k. */
  getState(k: number, out?: Float64Array): Float64Array {
    const env = this.#native();
    this.#k(k, 'getState');
    const o = out ?? new Float64Array(this.stateSize);
    env.getState(k, o);
    return o;
  }

  /** Poses of env k's mocap bodies: nmocap*7 values, pos + quat wxyz. */
  getFixturePoses(k: number, out?: Float64Array): Float64Array {
    const env = this.#native();
    this.#k(k, 'getFixturePoses');
    const o = out ?? new Float64Array(7 * this.nmocap);
    if (this.nmocap > 0) env.getMocap(k, o);
    return o;
  }

  /** Writes numEnvs*ROBOT_STATE.size values (layout ROBOT_STATE). */
  robotState(out: Float64Array): void {
    this.#native().robotState(out);
  }

  /** Writes numEnvs*objects.length*7 values: pos xyz + quat xyzw of each object body. */
  objectPoses(out: Float64Array): void {
    const env = this.#native();
    if (this.objects.length === 0) return;
    env.objectPoses(out);
  }

  bodyId(name: string): number {
    return this.#native().bodyId(name);
  }
  siteId(name: string): number {
    return this.#native().siteId(name);
  }
  jointId(name: string): number {
    return this.#native().jointId(name);
  }
  /** Index of the named joint's first value in qpos (state index = 1 + this). */
  jointQposAddress(name: string): number {
    return this.#native().jointQposAddress(name);
  }
  /** Index of the named joint's first value in qvel (state index = 1 + nq + this). */
  jointDofAddress(name: string): number {
    return this.#native().jointDofAddress(name);
  }
  /** The image size render() writes (height*width*3 bytes); throws when created without render options. */
  renderSize(): { width: number; height: number } {
    this.#native();
    if (!this.#renderSpec) throw new VecEnvError(`${this.name}: no render context: create the VecEnv with render: { width, height }`);
    return { width: this.#renderSpec.width, height: this.#renderSpec.height };
  }

  /** pos + quat xyzw of body id in env k. */
  bodyPose(k: number, id: number, out: Float64Array): void {
    this.#native().bodyPose(k, id, out);
  }
  /** pos + 3x3 rotation (row-major) of site id in env k. */
  sitePose(k: number, id: number, out: Float64Array): void {
    this.#native().sitePose(k, id, out);
  }
  /** qpos of joint id in env k into out (7 values); returns how many are valid (7 free, 4 ball, 1 slide/hinge). */
  jointQpos(k: number, id: number, out: Float64Array): number {
    return this.#native().jointQpos(k, id, out);
  }
  /** Any contact between a geom of A's subtree and a geom of B's subtree (robosuite check_contact). */
  inContact(k: number, bodyA: number, bodyB: number): boolean {
    return this.#native().inContact(k, bodyA, bodyB);
  }
  contactCount(k: number): number {
    return this.#native().contactCount(k);
  }

  /** RGB uint8 HWC into out (height*width*3). Raw OpenGL row order (bottom row first, robosuite raw obs) unless flip180. */
  render(k: number, camera: string, out: Uint8Array, opts?: { flip180?: boolean }): void {
    const env = this.#native();
    this.#k(k, 'render');
    env.render(k, camera, out, opts?.flip180 === true);
  }

  /** Steps all envs `steps` times in C++ cycling through T = actions.length/(numEnvs*7) rows; returns elapsed ms. */
  runNativeLoop(actions: Float32Array, steps: number): number {
    return this.#native().runNativeLoop(actions, steps);
  }

  /** MuJoCo warnings raised in env k since its last reset. */
  warnings(k: number): number {
    return this.#native().warnings(k);
  }
  /** Names and counts of the warnings raised in env k ('' when none). */
  warningText(k: number): string {
    return this.#native().warningText(k);
  }

  /** Frees the model, the sim states and the GL context. Idempotent. */
  close(): void {
    this.#env?.close();
    this.#env = undefined;
  }
}

/** MuJoCo library version string of the addon. */
export function mujocoVersion(): string {
  return native().sim.mujocoVersion;
}
