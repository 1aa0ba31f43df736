// LIBERO's demonstration HDF5 files, written and read exactly as LIBERO's scripts/create_dataset.py lays them out
// (spec/libero.md §7), through h5wasm (HDF5 compiled to wasm; in Node it reads and writes the host file directly).
//
//   data                       attrs env_name, problem_info (JSON), macros_image_convention, bddl_file_name,
//                                    bddl_file_content, env_args (JSON), num_demos, total
//   data/demo_i                attrs num_samples, model_file (MJCF XML), init_state (= states[0])
//     actions (T,7) float64, states (T,1+nq+nv) float64, robot_states (T,9) float64, rewards (T) uint8,
//     dones (T) uint8, obs/agentview_rgb + obs/eye_in_hand_rgb (T,H,W,3) uint8, obs/gripper_states (T,2),
//     obs/joint_states (T,7), obs/ee_states (T,6), obs/ee_pos (T,3), obs/ee_ori (T,3) float64
//
// Images: the file holds them the way its `macros_image_convention` says, and riptide writes 'opengl' as LIBERO
// does: raw glReadPixels rows, bottom row first, i.e. upside down (VecEnv.render without flip180). The policy sees
// the 180-degree rotation of that (openpi, OpenVLA, riptide's env-bank render with flip180); LazyDemo.image() returns
// the policy's view for either convention ('opencv' files are already row-flipped, so only the columns flip).
//
// Timing: LIBERO's create_dataset.py records obs[j] *after* executing action j; OpenVLA's regenerated files and
// riptide's collector record obs[j] *before* action j (what a policy saw when it chose the action). riptide adds the
// data attr `riptide_obs_timing` to say which; files without it are read as LIBERO's original when they carry
// create_dataset.py's attrs, else as OpenVLA's regeneration (which writes none).
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

import h5wasm from 'h5wasm/node';
import type { Dataset as H5Dataset, File as H5File, Group as H5Group } from 'h5wasm/node';

import { RiptideError } from '../errors.ts';
import { tempSibling } from '../fs-atomic.ts';

export class DemoFileError extends RiptideError {
  override name = 'DemoFileError';
}

// ---------------------------------------------------------------- schema

export type SchemaDtype = 'float64' | 'uint8' | 'int64' | 'string';

/** LIBERO's per-demo datasets. Shape letters: T steps, N = 1+nq+nv, H x W image. */
export const LIBERO_DEMO_DATASETS = [
  { key: 'actions', dtype: 'float64', shape: ['T', 7], what: 'the 7-dim OSC_POSE actions (delta pos 3, delta axis-angle 3, gripper)' },
  { key: 'states', dtype: 'float64', shape: ['T', 'N'], what: 'the flat MuJoCo state [time, qpos, qvel] per step' },
  { key: 'robot_states', dtype: 'float64', shape: ['T', 9], what: 'gripper qpos 2 + eef pos 3 + eef quat xyzw 4' },
  { key: 'rewards', dtype: 'uint8', shape: ['T'], what: 'sparse reward, 1 on the last step' },
  { key: 'dones', dtype: 'uint8', shape: ['T'], what: 'done flags, 1 on the last step' },
  { key: 'obs/agentview_rgb', dtype: 'uint8', shape: ['T', 'H', 'W', 3], what: 'third-person camera images' },
  { key: 'obs/eye_in_hand_rgb', dtype: 'uint8', shape: ['T', 'H', 'W', 3], what: 'wrist camera images' },
  { key: 'obs/gripper_states', dtype: 'float64', shape: ['T', 2], what: 'finger joint positions (robot0_gripper_qpos)' },
  { key: 'obs/joint_states', dtype: 'float64', shape: ['T', 7], what: 'arm joint positions (robot0_joint_pos)' },
  { key: 'obs/ee_states', dtype: 'float64', shape: ['T', 6], what: 'eef pos 3 + axis-angle 3' },
  { key: 'obs/ee_pos', dtype: 'float64', shape: ['T', 3], what: 'eef position (robot0_eef_pos, site gripper0_grip_site)' },
  { key: 'obs/ee_ori', dtype: 'float64', shape: ['T', 3], what: 'axis-angle of robot0_eef_quat (T.quat2axisangle)' },
] as const;

export const LIBERO_DATA_ATTRS = [
  { key: 'env_name', dtype: 'string' },
  { key: 'problem_info', dtype: 'string' },
  { key: 'macros_image_convention', dtype: 'string' },
  { key: 'bddl_file_name', dtype: 'string' },
  { key: 'bddl_file_content', dtype: 'string' },
  { key: 'env_args', dtype: 'string' },
  { key: 'num_demos', dtype: 'int64' },
  { key: 'total', dtype: 'int64' },
] as const;

export const LIBERO_DEMO_ATTRS = [
  { key: 'num_samples', dtype: 'int64' },
  { key: 'model_file', dtype: 'string' },
  { key: 'init_state', dtype: 'float64' },
] as const;

/** riptide's one addition to the data group (see the header comment). */
export const OBS_TIMING_ATTR = 'riptide_obs_timing';

export type LiberoDatasetKey = (typeof LIBERO_DEMO_DATASETS)[number]['key'];
type ArrayOf = { float64: Float64Array; uint8: Uint8Array };
/** One demo's datasets keyed by their path under data/demo_i, typed by LIBERO's dtype. */
export type LiberoDemoData = { [S in (typeof LIBERO_DEMO_DATASETS)[number] as S['key']]: ArrayOf[S['dtype']] };

export type ImageConvention = 'opengl' | 'opencv';
export type ObsTiming = 'before_action' | 'after_action';
export type LiberoCamera = 'agentview' | 'eye_in_hand';
export const LIBERO_CAMERAS: readonly LiberoCamera[] = ['agentview', 'eye_in_hand'];
const CAMERA_KEY = { agentview: 'obs/agentview_rgb', eye_in_hand: 'obs/eye_in_hand_rgb' } as const;

export const ACTION_DIM = 7;
/** eef pos 3 + eef axis-angle 3 + finger qpos 2: the state LIBERO policies get (spec/libero.md §1). */
export const POLICY_STATE_DIM = 8;

export interface ProblemInfo {
  problem_name: string;
  domain_name: string;
  language_instruction: string;
  [k: string]: unknown;
}

/** The data group's attributes (num_demos and total are computed when writing). */
export interface LiberoMeta {
  envName: string;
  problemInfo: ProblemInfo;
  imageConvention: ImageConvention;
  bddlFileName: string;
  bddlFileContent: string;
  envArgs: Record<string, unknown>;
  obsTiming: ObsTiming;
}

export type ExtraAttr = string | number | Float64Array;

export interface LiberoDemo {
  data: LiberoDemoData;
  /** Camera image size (both cameras). */
  height: number;
  width: number;
  /** Demo attrs; num_samples is T. */
  modelFile: string;
  initState: Float64Array;
  /** Further demo attrs (riptide writes its init index, fixture poses and noise seed for replays). */
  extraAttrs?: Record<string, ExtraAttr>;
}

// ---------------------------------------------------------------- h5wasm

let readyPromise: Promise<unknown> | undefined;
/** Loads the HDF5 wasm module (once per thread). */
export function h5Ready(): Promise<unknown> {
  readyPromise ??= h5wasm.ready;
  return readyPromise;
}

const H5_DTYPE: Record<'float64' | 'uint8' | 'int64', string> = { float64: '<d', uint8: '<B', int64: '<q' };

/** Our dtype name of an h5wasm dataset or attribute. */
function dtypeName(meta: { type?: number; size: number; signed: boolean }): string {
  if (meta.type === 0) return `${meta.signed ? 'int' : 'uint'}${meta.size * 8}`;
  if (meta.type === 1) return `float${meta.size * 8}`;
  if (meta.type === 3) return 'string';
  return `hdf5 class ${meta.type}`;
}

function shapeOf(meta: { shape: number[] | null }): number[] {
  return meta.shape ?? [];
}

// ---------------------------------------------------------------- writing

export interface WriteOptions {
  /** gzip level for the image datasets (chunked per frame); 0 (default) stores them contiguous, as LIBERO does. */
  gzip?: number;
}

function checkDemo(file: string, i: number, d: LiberoDemo): { T: number; N: number } {
  const where = `${file}: demo_${i}`;
  const actions = d.data.actions;
  if (!(actions instanceof Float64Array) || actions.length === 0 || actions.length % ACTION_DIM !== 0) {
    throw new DemoFileError(`${where}: actions must be a non-empty Float64Array of T*7 values, got ${actions?.length ?? 'none'}`);
  }
  const T = actions.length / ACTION_DIM;
  const states = d.data.states;
  const N = states instanceof Float64Array ? states.length / T : NaN;
  if (!Number.isInteger(N) || N < 1) throw new DemoFileError(`${where}: states must be a Float64Array of T*N values (T = ${T} from actions), got ${states?.length}`);
  if (!Number.isInteger(d.height) || !Number.isInteger(d.width) || d.height < 1 || d.width < 1) {
    throw new DemoFileError(`${where}: height and width must be positive integers (the camera image size), got ${d.height}x${d.width}`);
  }
  for (const s of LIBERO_DEMO_DATASETS) {
    const a: Float64Array | Uint8Array | undefined = d.data[s.key];
    const ctor = s.dtype === 'float64' ? Float64Array : Uint8Array;
    const want = s.shape.reduce<number>((n, x) => n * (x === 'T' ? T : x === 'N' ? N : x === 'H' ? d.height : x === 'W' ? d.width : x), 1);
    if (!(a instanceof ctor)) throw new DemoFileError(`${where}: ${s.key} must be a ${ctor.name} (${s.what}), got ${a === undefined ? 'nothing' : Object.prototype.toString.call(a)}`);
    if (a.length !== want) throw new DemoFileError(`${where}: ${s.key} has ${a.length} values, expected ${want} = (${s.shape.join(', ')}) with T=${T}, N=${N}, H=${d.height}, W=${d.width}`);
  }
  if (!(d.initState instanceof Float64Array) || d.initState.length !== N) {
    throw new DemoFileError(`${where}: initState must be a Float64Array of N = ${N} values (states[0])`);
  }
  return { T, N };
}

function writeAttr(node: H5Group, name: string, value: ExtraAttr): void {
  if (typeof value === 'string') node.create_attribute(name, value);
  else if (typeof value === 'number') node.create_attribute(name, value, [], Number.isInteger(value) ? H5_DTYPE.int64 : H5_DTYPE.float64);
  else node.create_attribute(name, value, [value.length], H5_DTYPE.float64);
}

/**
 * A LIBERO demo file being written: demos are appended one at a time (so a collector holds one episode in memory,
 * not all of them) into a temp file in the same folder, which finish() renames over `file` once complete; a crash
 * or abort() leaves any previous file untouched and no temp file behind.
 */
export class LiberoHdf5Writer {
  readonly file: string;
  #f: H5File | undefined;
  readonly #tmp: string;
  readonly #data: H5Group;
  readonly #gzip: number;
  #demos = 0;
  #total = 0;

  private constructor(file: string, f: H5File, tmp: string, gzip: number) {
    this.file = file;
    this.#f = f;
    this.#tmp = tmp;
    this.#gzip = gzip;
    this.#data = f.create_group('data');
  }

  /** Starts the temp file and writes the data group's attrs (num_demos and total come at finish()). */
  static async create(file: string, meta: LiberoMeta, opts: WriteOptions = {}): Promise<LiberoHdf5Writer> {
    const gzip = opts.gzip ?? 0;
    if (!Number.isInteger(gzip) || gzip < 0 || gzip > 9) throw new DemoFileError(`${file}: gzip level must be 0..9, got ${gzip}`);
    await h5Ready();
    const tmp = tempSibling(file);
    let w: LiberoHdf5Writer | undefined;
    try {
      w = new LiberoHdf5Writer(file, new h5wasm.File(tmp, 'w'), tmp, gzip);
      const data = w.#data;
      data.create_attribute('env_name', meta.envName);
      data.create_attribute('problem_info', JSON.stringify(meta.problemInfo));
      data.create_attribute('macros_image_convention', meta.imageConvention);
      data.create_attribute('bddl_file_name', meta.bddlFileName);
      data.create_attribute('bddl_file_content', meta.bddlFileContent);
      data.create_attribute('env_args', JSON.stringify(meta.envArgs));
      data.create_attribute(OBS_TIMING_ATTR, meta.obsTiming);
      return w;
    } catch (e) {
      w?.abort();
      rmSync(tmp, { force: true });
      throw wrapWriteError(file, e);
    }
  }

  /** Demos written so far. */
  get count(): number {
    return this.#demos;
  }

  /** Appends data/demo_{count}; a demo that does not fit the schema throws before anything is written. */
  add(d: LiberoDemo): void {
    this.#open();
    const i = this.#demos;
    const { T, N } = checkDemo(this.file, i, d);
    try {
      const g = this.#data.create_group(`demo_${i}`);
      g.create_group('obs');
      for (const s of LIBERO_DEMO_DATASETS) {
        const shape = s.shape.map((x) => (x === 'T' ? T : x === 'N' ? N : x === 'H' ? d.height : x === 'W' ? d.width : x));
        const image = shape.length === 4;
        g.create_dataset({
          name: s.key,
          data: d.data[s.key],
          shape,
          dtype: H5_DTYPE[s.dtype],
          ...(image && this.#gzip > 0 ? { chunks: [1, d.height, d.width, 3], compression: this.#gzip } : {}),
        });
      }
      writeAttr(g, 'num_samples', T);
      writeAttr(g, 'model_file', d.modelFile);
      writeAttr(g, 'init_state', d.initState);
      for (const [k, v] of Object.entries(d.extraAttrs ?? {})) writeAttr(g, k, v);
    } catch (e) {
      this.abort();
      throw wrapWriteError(this.file, e);
    }
    this.#demos += 1;
    this.#total += T;
  }

  /** Writes num_demos and total, closes, fsyncs and renames the temp file over `file`. */
  finish(): void {
    this.#open();
    try {
      writeAttr(this.#data, 'num_demos', this.#demos);
      writeAttr(this.#data, 'total', this.#total);
      this.#f!.close();
      this.#f = undefined;
      const fd = openSync(this.#tmp, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(this.#tmp, this.file);
    } catch (e) {
      this.abort();
      throw wrapWriteError(this.file, e);
    }
  }

  /** Drops the temp file; `file` stays as it was. Idempotent. */
  abort(): void {
    try {
      this.#f?.close();
    } catch {
      /* already failing; the original error matters */
    }
    this.#f = undefined;
    rmSync(this.#tmp, { force: true });
  }

  #open(): H5File {
    if (!this.#f) throw new DemoFileError(`${this.file}: the writer is closed (finished or aborted)`);
    return this.#f;
  }
}

function wrapWriteError(file: string, e: unknown): Error {
  if (e instanceof RiptideError) return e;
  return new DemoFileError(`${file}: writing the HDF5 file failed: ${e instanceof Error ? e.message : String(e)}`);
}

/** Writes one LIBERO demo file atomically (see LiberoHdf5Writer); every demo is checked before the file is started. */
export async function writeLiberoHdf5(file: string, meta: LiberoMeta, demos: readonly LiberoDemo[], opts: WriteOptions = {}): Promise<void> {
  demos.forEach((d, i) => checkDemo(file, i, d));
  const w = await LiberoHdf5Writer.create(file, meta, opts);
  for (const d of demos) w.add(d);
  w.finish();
}

// ---------------------------------------------------------------- reading

/** What a file's data group says; schema attrs it lacks are undefined (OpenVLA's regenerated files have none). */
export interface LiberoFileMeta {
  envName?: string;
  problemInfo?: ProblemInfo;
  /** 'opengl' when the attr is absent (robosuite's default, and what every published LIBERO file holds). */
  imageConvention: ImageConvention;
  bddlFileName?: string;
  bddlFileContent?: string;
  envArgs?: Record<string, unknown>;
  numDemos?: number;
  total?: number;
  obsTiming: ObsTiming;
  /** LIBERO data attrs the file does not have. */
  missingAttrs: string[];
}

export interface AttrInfo {
  dtype: string;
  shape: number[];
  value: unknown;
}

function attrValue(node: H5Group | H5Dataset, name: string): AttrInfo | undefined {
  const a = node.attrs[name];
  if (!a) return undefined;
  let value: unknown = a.value;
  if (typeof value === 'bigint') value = Number(value);
  return { dtype: dtypeName(a.metadata), shape: shapeOf(a.metadata), value };
}

function stringAttr(node: H5Group, name: string): string | undefined {
  const a = attrValue(node, name);
  if (a === undefined) return undefined;
  if (typeof a.value === 'string') return a.value;
  if (a.value instanceof Uint8Array) return Buffer.from(a.value).toString('utf8');
  return String(a.value);
}

function numberAttr(node: H5Group, name: string): number | undefined {
  const a = attrValue(node, name);
  if (a === undefined) return undefined;
  const v = ArrayBuffer.isView(a.value) ? (a.value as unknown as ArrayLike<number | bigint>)[0] : a.value;
  return typeof v === 'number' || typeof v === 'bigint' ? Number(v) : undefined;
}

function jsonAttr<T>(file: string, node: H5Group, name: string): T | undefined {
  const s = stringAttr(node, name);
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s) as T;
  } catch (e) {
    throw new DemoFileError(`${file}: data attr '${name}' is not valid JSON (${(e as Error).message}); LIBERO stores it as json.dumps(...)`);
  }
}

function toFloat64(v: unknown): Float64Array {
  if (v instanceof Float64Array) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Float64Array.from(v as unknown as ArrayLike<number>, Number);
  throw new TypeError(`expected a numeric array, got ${Object.prototype.toString.call(v)}`);
}

/** robosuite transform_utils.quat2axisangle on an xyzw quaternion (no sign canonicalisation, as robosuite). */
export function quatToAxisAngle(q: ArrayLike<number>, out: Float64Array | Float32Array, o = 0): void {
  const w = Math.min(1, Math.max(-1, q[3]));
  const den = Math.sqrt(1 - w * w);
  if (Math.abs(den) < 1e-9) {
    out[o] = out[o + 1] = out[o + 2] = 0;
    return;
  }
  const s = (2 * Math.acos(w)) / den;
  out[o] = q[0] * s;
  out[o + 1] = q[1] * s;
  out[o + 2] = q[2] * s;
}

/** The ways a file can give the 8-dim policy state, most direct first. */
const STATE_SOURCES = [
  { name: 'obs/ee_pos + obs/ee_ori + obs/gripper_states', keys: ['obs/ee_pos', 'obs/ee_ori', 'obs/gripper_states'] },
  { name: 'obs/ee_states + obs/gripper_states', keys: ['obs/ee_states', 'obs/gripper_states'] },
  { name: 'robot_states (gripper 2, eef pos 3, eef quat xyzw 4)', keys: ['robot_states'] },
] as const;

/** One demo of an open file; datasets are read from disk when asked for (images one frame at a time). */
export class LazyDemo {
  readonly file: string;
  /** 'demo_3' */
  readonly key: string;
  /** T: recorded steps. */
  readonly length: number;
  readonly height: number;
  readonly width: number;
  readonly imageConvention: ImageConvention;
  readonly #group: H5Group;
  readonly #datasets = new Map<string, H5Dataset>();
  readonly #stateSource: (typeof STATE_SOURCES)[number];

  /** @internal built by readLiberoHdf5, which has checked the required keys. */
  constructor(file: string, key: string, group: H5Group, convention: ImageConvention) {
    this.file = file;
    this.key = key;
    this.#group = group;
    this.imageConvention = convention;
    const where = `${file}: data/${key}`;
    const need = (k: string, what: string): H5Dataset => {
      const ds = this.#dataset(k);
      if (!ds) throw new DemoFileError(`${where} has no '${k}' (expected ${what}); every demo needs actions, obs/agentview_rgb, obs/eye_in_hand_rgb and a state source`);
      return ds;
    };
    const actions = need('actions', 'float64 (T, 7) actions');
    const [T, A] = shapeOf(actions.metadata);
    if (shapeOf(actions.metadata).length !== 2 || A !== ACTION_DIM || actions.metadata.type !== 1) {
      throw new DemoFileError(`${where}/actions is ${dtypeName(actions.metadata)} (${shapeOf(actions.metadata).join(', ')}), expected float (T, 7)`);
    }
    this.length = T;
    let hw: number[] | undefined;
    for (const cam of LIBERO_CAMERAS) {
      const k = CAMERA_KEY[cam];
      const ds = need(k, 'uint8 (T, H, W, 3) images');
      const s = shapeOf(ds.metadata);
      if (s.length !== 4 || s[0] !== T || s[3] !== 3 || ds.metadata.type !== 0 || ds.metadata.size !== 1) {
        throw new DemoFileError(`${where}/${k} is ${dtypeName(ds.metadata)} (${s.join(', ')}), expected uint8 (${T}, H, W, 3) to match actions' T = ${T}`);
      }
      if (hw && (hw[0] !== s[1] || hw[1] !== s[2])) throw new DemoFileError(`${where}: the two cameras differ in size (${hw.join('x')} and ${s[1]}x${s[2]}); both must be H x W`);
      hw = [s[1], s[2]];
    }
    [this.height, this.width] = hw!;
    const source = STATE_SOURCES.find((src) => src.keys.every((k) => this.#dataset(k)));
    if (!source) {
      const present = ['obs/ee_pos', 'obs/ee_ori', 'obs/ee_states', 'obs/gripper_states', 'robot_states'].filter((k) => this.#dataset(k));
      throw new DemoFileError(
        `${where} has no policy state source: it needs ${STATE_SOURCES.map((s) => s.name).join(', or ')} ` +
          `(has ${present.length ? present.join(', ') : 'none of them'}); missing ${STATE_SOURCES[0].keys.filter((k) => !this.#dataset(k)).join(', ')}`,
      );
    }
    for (const k of source.keys) {
      const s = shapeOf(this.#dataset(k)!.metadata);
      if (s[0] !== T) throw new DemoFileError(`${where}/${k} has ${s[0]} rows, expected T = ${T} (the length of actions)`);
    }
    this.#stateSource = source;
  }

  #dataset(key: string): H5Dataset | undefined {
    if (this.#datasets.has(key)) return this.#datasets.get(key);
    let node: unknown = null;
    const parts = key.split('/');
    let g: H5Group | null = this.#group;
    for (let i = 0; i < parts.length - 1 && g; i++) {
      const sub: unknown = g.keys().includes(parts[i]) ? g.get(parts[i]) : null;
      g = sub instanceof h5wasm.Group ? sub : null;
    }
    if (g && g.keys().includes(parts[parts.length - 1])) node = g.get(parts[parts.length - 1]);
    const ds = node instanceof h5wasm.Dataset ? node : undefined;
    if (ds) this.#datasets.set(key, ds);
    return ds;
  }

  has(key: string): boolean {
    return this.#dataset(key) !== undefined;
  }

  /** dtype ('float64', 'uint8', ...) and shape of a dataset, or undefined when the demo lacks it. */
  info(key: string): { dtype: string; shape: number[] } | undefined {
    const ds = this.#dataset(key);
    return ds ? { dtype: dtypeName(ds.metadata), shape: shapeOf(ds.metadata) } : undefined;
  }

  /** A whole dataset as stored (typed array of its dtype, row-major). */
  read(key: string): Float64Array | Float32Array | Uint8Array | Int32Array | BigInt64Array {
    const ds = this.#dataset(key);
    if (!ds) throw new DemoFileError(`${this.file}: data/${this.key} has no '${key}'`);
    return ds.value as Float64Array;
  }

  /** Rows [start, end) of a dataset. */
  rows(key: string, start: number, end: number): Float64Array | Uint8Array {
    const ds = this.#dataset(key);
    if (!ds) throw new DemoFileError(`${this.file}: data/${this.key} has no '${key}'`);
    return ds.slice([[start, end]]) as Float64Array | Uint8Array;
  }

  /** Demo attrs (num_samples, model_file, init_state and any others), with dtype and shape. */
  attr(name: string): AttrInfo | undefined {
    return attrValue(this.#group, name);
  }

  get attrNames(): string[] {
    return Object.keys(this.#group.attrs);
  }

  /** The actions, (T, 7) float64. */
  actions(): Float64Array {
    return toFloat64(this.read('actions'));
  }

  /**
   * The policy state per step, (T, 8) float64: eef pos, eef axis-angle, finger qpos. LIBERO's obs/ee_ori is the
   * axis-angle of robot0_eef_quat (create_dataset.py: T.quat2axisangle; not Euler angles), the same 3 numbers
   * openpi's LIBERO state carries, so it is used as is; robot_states' quaternion is converted the same way.
   */
  policyStates(): Float64Array {
    const T = this.length;
    const out = new Float64Array(T * POLICY_STATE_DIM);
    const put = (src: Float64Array, width: number, from: number, count: number, to: number) => {
      for (let t = 0; t < T; t++) for (let j = 0; j < count; j++) out[t * POLICY_STATE_DIM + to + j] = src[t * width + from + j];
    };
    const get = (k: string) => toFloat64(this.read(k));
    switch (this.#stateSource.keys[0]) {
      case 'obs/ee_pos':
        put(get('obs/ee_pos'), 3, 0, 3, 0);
        put(get('obs/ee_ori'), 3, 0, 3, 3);
        put(get('obs/gripper_states'), 2, 0, 2, 6);
        break;
      case 'obs/ee_states':
        put(get('obs/ee_states'), 6, 0, 6, 0);
        put(get('obs/gripper_states'), 2, 0, 2, 6);
        break;
      default: {
        const r = get('robot_states');
        put(r, 9, 2, 3, 0);
        put(r, 9, 0, 2, 6);
        for (let t = 0; t < T; t++) quatToAxisAngle(r.subarray(t * 9 + 5, t * 9 + 9), out, t * POLICY_STATE_DIM + 3);
      }
    }
    return out;
  }

  /** Which keys the policy state comes from. */
  get stateSource(): string {
    return this.#stateSource.name;
  }

  /** Frame t of a camera as the file holds it (H*W*3 uint8, see imageConvention). */
  rawImage(camera: LiberoCamera, t: number): Uint8Array {
    if (!(Number.isInteger(t) && t >= 0 && t < this.length)) throw new RangeError(`${this.file}: data/${this.key}: step ${t} outside 0..${this.length - 1}`);
    return this.rows(CAMERA_KEY[camera], t, t + 1) as Uint8Array;
  }

  /** Frame t of a camera as the policy sees it (rotated 180 degrees from 'opengl' rows) into out[offset...]. */
  image(camera: LiberoCamera, t: number, out?: Uint8Array, offset = 0): Uint8Array {
    const raw = this.rawImage(camera, t);
    const o = out ?? new Uint8Array(raw.length);
    if (this.imageConvention === 'opengl') rotate180(raw, this.height, this.width, o, offset);
    else mirrorColumns(raw, this.height, this.width, o, offset);
    return o;
  }

  /** Everything in LIBERO's schema, for tests and conversions (throws naming the first key the demo lacks). */
  load(): LiberoDemo {
    const data: Partial<Record<LiberoDatasetKey, Float64Array | Uint8Array>> = {};
    for (const s of LIBERO_DEMO_DATASETS) {
      const v = this.read(s.key);
      data[s.key] = s.dtype === 'uint8' ? (v as Uint8Array) : toFloat64(v);
    }
    const extraAttrs: Record<string, ExtraAttr> = {};
    for (const name of this.attrNames) {
      if (LIBERO_DEMO_ATTRS.some((a) => a.key === name)) continue;
      const a = this.attr(name)!;
      extraAttrs[name] = typeof a.value === 'string' || typeof a.value === 'number' ? a.value : toFloat64(a.value);
    }
    const init = this.attr('init_state');
    return {
      data: data as LiberoDemoData,
      height: this.height,
      width: this.width,
      modelFile: String(this.attr('model_file')?.value ?? ''),
      initState: init ? toFloat64(init.value) : new Float64Array(0),
      extraAttrs,
    };
  }
}

/** 180-degree rotation of an H x W x 3 image (reverse rows and columns). */
export function rotate180(src: Uint8Array, h: number, w: number, out: Uint8Array, offset = 0): void {
  const n = h * w;
  for (let p = 0; p < n; p++) {
    const s = p * 3;
    const d = offset + (n - 1 - p) * 3;
    out[d] = src[s];
    out[d + 1] = src[s + 1];
    out[d + 2] = src[s + 2];
  }
}

function mirrorColumns(src: Uint8Array, h: number, w: number, out: Uint8Array, offset: number): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      const d = offset + (y * w + (w - 1 - x)) * 3;
      out[d] = src[s];
      out[d + 1] = src[s + 1];
      out[d + 2] = src[s + 2];
    }
  }
}

export interface LiberoFile {
  file: string;
  meta: LiberoFileMeta;
  /** data/demo_i in numeric order of i (gaps allowed: OpenVLA drops failed replays). */
  demos: LazyDemo[];
  /** A data-group attr with its stored dtype and shape. */
  attr(name: string): AttrInfo | undefined;
  close(): void;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5's superblock signature sits at offset 0, 512, 1024, 2048, ... (after an optional user block). */
function looksLikeHdf5(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      if (readSync(fd, buf, 0, 8, at) === 8 && buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Opens a LIBERO demo file (LIBERO's own, OpenVLA's regenerated ones, or riptide's); close() it when done. */
export async function readLiberoHdf5(file: string): Promise<LiberoFile> {
  if (!existsSync(file)) throw new DemoFileError(`${file}: no such file`);
  // h5wasm does not throw on a non-HDF5 file (it hands back a dead file id), so check the signature first.
  if (!looksLikeHdf5(file)) throw new DemoFileError(`${file}: not a readable HDF5 file (no HDF5 signature); give a LIBERO <task>_demo.hdf5 file`);
  await h5Ready();
  let f: H5File;
  try {
    f = new h5wasm.File(path.resolve(file), 'r');
  } catch (e) {
    throw new DemoFileError(`${file}: not a readable HDF5 file (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    const dataNode: unknown = f.keys().includes('data') ? f.get('data') : null;
    if (!(dataNode instanceof h5wasm.Group)) {
      throw new DemoFileError(`${file}: has no 'data' group (has ${f.keys().join(', ') || 'nothing'}); a LIBERO demo file holds data/demo_0, data/demo_1, ...`);
    }
    const data = dataNode;
    const keys = data
      .keys()
      .filter((k) => /^demo_\d+$/.test(k))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    if (keys.length === 0) throw new DemoFileError(`${file}: data has no demo_i groups (has ${data.keys().join(', ') || 'nothing'})`);
    const convention = stringAttr(data, 'macros_image_convention') ?? 'opengl';
    if (convention !== 'opengl' && convention !== 'opencv') {
      throw new DemoFileError(`${file}: data attr macros_image_convention is '${convention}', expected 'opengl' or 'opencv' (robosuite's IMAGE_CONVENTION)`);
    }
    const timing = stringAttr(data, OBS_TIMING_ATTR);
    if (timing !== undefined && timing !== 'before_action' && timing !== 'after_action') {
      throw new DemoFileError(`${file}: data attr ${OBS_TIMING_ATTR} is '${timing}', expected 'before_action' or 'after_action'`);
    }
    const meta: LiberoFileMeta = {
      envName: stringAttr(data, 'env_name'),
      problemInfo: jsonAttr<ProblemInfo>(file, data, 'problem_info'),
      imageConvention: convention,
      bddlFileName: stringAttr(data, 'bddl_file_name'),
      bddlFileContent: stringAttr(data, 'bddl_file_content'),
      envArgs: jsonAttr<Record<string, unknown>>(file, data, 'env_args'),
      numDemos: numberAttr(data, 'num_demos'),
      total: numberAttr(data, 'total'),
      // create_dataset.py's files carry its attrs and record obs after each action; OpenVLA's carry none.
      obsTiming: timing ?? (attrValue(data, 'macros_image_convention') ? 'after_action' : 'before_action'),
      missingAttrs: LIBERO_DATA_ATTRS.map((a) => a.key).filter((k) => !data.attrs[k]),
    };
    const demos = keys.map((k) => {
      const g: unknown = data.get(k);
      if (!(g instanceof h5wasm.Group)) throw new DemoFileError(`${file}: data/${k} is not a group`);
      return new LazyDemo(file, k, g, convention);
    });
    let open = true;
    return {
      file,
      meta,
      demos,
      attr: (name) => attrValue(data, name),
      close: () => {
        if (open) f.close();
        open = false;
      },
    };
  } catch (e) {
    f.close();
    throw e;
  }
}

/** LIBERO's problem class name from a BDDL problem line ('libero_tabletop_manipulation' -> 'Libero_Tabletop_Manipulation'). */
export function problemClassName(problem: string): string {
  return problem
    .split('_')
    .map((w) => (w ? w[0].toUpperCase() + w.slice(1) : w))
    .join('_');
}

/** LIBERO's file name of a task's demos: '<task name>_demo.hdf5'. */
export function demoFileName(taskName: string): string {
  return `${taskName}_demo.hdf5`;
}

/** The instruction LIBERO's benchmark derives from a demo file name (scene prefix and '_demo' dropped). */
export function languageFromFileName(file: string): string {
  const base = path.basename(file).replace(/\.hdf5$/, '').replace(/_demo$/, '');
  const m = /^[A-Z_]+SCENE\d+_(.*)$/.exec(base);
  return (m ? m[1] : base).replaceAll('_', ' ');
}
