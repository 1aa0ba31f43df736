// Init states: seeded placements from a task's :init atoms, settled in the simulator, stored in the repo.
//
// Sampling follows LIBERO's samplers (spec/libero.md §3-§4): fixtures uniform in their table region (the small
// rectangles are the +-1 cm jitter) with the region's yaw range; articulated joints uniform in the Open / Close /
// TurnOn / TurnOff init ranges; objects uniform in their table region, never overlapping another footprint;
// On/In another object or a site: centred on it, just above its floor. The arm gets LIBERO's N(0, 0.02 rad) joint
// noise. Then one simulated second with the robot holding still lets everything come to rest; time and qvel are
// stored as 0, as in LIBERO's rows.
//
// File format (`<task>.init.json`, one per task, next to its BDDL file):
//   { format: "riptide.init_states.v1", task, signature (hash of the task's MJCF: a file made for another model
//     is refused), seed, count, nq, nv, nmocap, layout, data }
//   data = base64 of count rows of float32 little-endian: qpos (nq) then fixture poses (nmocap x pos xyz + quat wxyz).
//   A row expands to LIBERO's [time = 0, qpos, qvel = 0] plus the fixture poses.
import { existsSync, readFileSync } from 'node:fs';

import { RiptideError } from '../errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { Rng } from '../rng.ts';
import { PANDA_NAMES } from '../sim/mjcf/panda.ts';
import type { Vec3 } from './assets/types.ts';
import { articulatedJoints } from './predicates.ts';
import { drawerFrontOffset, type SceneInstance, type TaskScene } from './scene.ts';
import { TaskEnv, type InitState } from './task-env.ts';

export const INIT_STATE_FORMAT = 'riptide.init_states.v1';
export const DEFAULT_INIT_STATES = 50;
const SETTLE_STEPS = 20; // 1 s at 20 Hz
const ARM_NOISE = 0.02; // rad, robosuite's default initialization noise in LIBERO's rows
const DROP = 0.002; // objects start this far above their support
const CLEARANCE = 0.01; // between footprints
const JOINT_PREDICATES = new Set(['open', 'close', 'turnon', 'turnoff']);
const SETTLE_MOVE_LIMIT = 0.03; // an object that slid farther than this while settling means a bad placement

export class InitStateError extends RiptideError {
  override name = 'InitStateError';
}

export interface InitStateSet {
  task: string;
  signature: string;
  seed: number;
  states: InitState[];
}

interface Placed {
  name: string;
  x: number;
  y: number;
  r: number;
}

/** Samples one init state (not yet settled) into env 0; returns it or a reason to retry. */
function sampleOnce(scene: TaskScene, env: TaskEnv, rng: Rng): InitState | string {
  const vec = env.env;
  vec.reset(0);
  const state = vec.getState(0);
  const fixtures = vec.getFixturePoses(0);
  const qpos = (joint: string) => 1 + vec.jointQposAddress(joint);
  for (const j of PANDA_NAMES.joints) state[qpos(j)] += ARM_NOISE * rng.normal();

  const placed: Placed[] = [];
  const poses = new Map<string, Vec3>(); // instance -> world position of its origin
  const fixtureIndex = new Map(scene.fixtures.map((x, i) => [x.name, i]));
  const instances = new Map<string, SceneInstance>([...scene.objects, ...scene.fixtures].map((i) => [i.name, i]));
  const setPose = (inst: SceneInstance, p: Vec3, yaw: number) => {
    const quat = [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)];
    const fi = fixtureIndex.get(inst.name);
    if (fi !== undefined) fixtures.set([...p, ...quat], 7 * fi);
    else state.set([...p, ...quat], qpos(`${inst.name}_joint`));
    poses.set(inst.name, p);
  };

  const init = scene.problem.init;
  // Joints first: drawer regions move with their drawer.
  for (const atom of init) {
    const kind = atom.predicate as 'open' | 'close' | 'turnon' | 'turnoff';
    if (!JOINT_PREDICATES.has(kind)) continue;
    for (const { name, spec } of articulatedJoints(scene, atom.args[0])) {
      const r = spec.initRanges[kind];
      if (r) state[qpos(name)] = rng.range(r[0], r[1]);
    }
  }
  // Things on table regions (fixtures before objects, as LIBERO places them), then things on other things.
  const isTableZone = (name: string) => {
    const r = scene.regions.get(name);
    return r !== undefined && r.owner === undefined;
  };
  const onSurface = init.filter((a) => (a.predicate === 'on' || a.predicate === 'in') && isTableZone(a.args[1]));
  onSurface.sort((a, b) => Number(fixtureIndex.has(b.args[0])) - Number(fixtureIndex.has(a.args[0])));
  for (const atom of onSurface) {
    const inst = instances.get(atom.args[0])!;
    const region = scene.regions.get(atom.args[1])!;
    let ok = false;
    for (let attempt = 0; attempt < 200 && !ok; attempt++) {
      const [x0, y0, x1, y1] = region.ranges[rng.int(region.ranges.length)];
      const x = rng.range(x0, x1);
      const y = rng.range(y0, y1);
      const r = inst.model.radius;
      if (placed.some((p) => Math.hypot(p.x - x, p.y - y) < p.r + r + CLEARANCE)) continue;
      const yaws = region.yawRotation;
      const yaw = yaws.length > 0 ? rng.range(...yaws[rng.int(yaws.length)]) : 0;
      setPose(inst, [x, y, scene.arena.surfaceZ + (fixtureIndex.has(inst.name) ? 0 : DROP)], yaw);
      placed.push({ name: inst.name, x, y, r });
      ok = true;
    }
    if (!ok) return `no collision-free spot for ${inst.name} in ${region.name}`;
  }
  const stacked = init.filter((a) => (a.predicate === 'on' || a.predicate === 'in') && !onSurface.includes(a));
  const site = new Float64Array(12);
  for (let deferred = 0; stacked.length > 0; ) {
    const atom = stacked.shift()!;
    const [a, b] = atom.args;
    const region = scene.regions.get(b);
    const support = region?.owner ?? b;
    if (!poses.has(support)) {
      stacked.push(atom);
      if (++deferred > stacked.length) {
        throw new InitStateError(`${scene.problem.file}:${atom.line}: :init places ${stacked.map((x) => x.args[0]).join(', ')} on things that are never placed`);
      }
      continue;
    }
    deferred = 0;
    const inst = instances.get(a)!;
    const yaw = rng.range(-0.1, 0.1);
    if (!region) {
      const s = instances.get(b)!;
      const p = poses.get(b)!;
      setPose(inst, [p[0], p[1], p[2] + s.model.height + DROP], yaw);
    } else {
      vec.reset(0, state, fixtures);
      vec.sitePose(0, vec.siteId(region.name), site);
      const bottom = site[2] - region.size[2];
      const jx = Math.max(0, Math.min(0.01, region.size[0] - inst.model.radius));
      const jy = Math.max(0, Math.min(0.01, region.size[1] - inst.model.radius));
      let [x, y] = [site[0] + rng.range(-jx, jx), site[1] + rng.range(-jy, jy)];
      if (region.joint) {
        // In a drawer: in its front part, which the :init opens out of the cabinet.
        const out = drawerFrontOffset(region, inst.model.radius) - jx;
        const ownerYaw = poses.has(region.owner!) ? yawOf(fixtures, fixtureIndex.get(region.owner!)!) : 0;
        x -= Math.cos(ownerYaw) * out;
        y -= Math.sin(ownerYaw) * out;
      }
      setPose(inst, [x, y, bottom + DROP], yaw);
    }
  }
  return { state, fixtures };
}

/** Yaw of fixture i from its pose (pos, quat wxyz) in the fixture-pose array. */
function yawOf(fixtures: Float64Array, i: number): number {
  const [w, x, y, z] = fixtures.subarray(7 * i + 3, 7 * i + 7);
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

/** Settles a sampled state in env 0: one second holding still, then time and velocities zeroed. */
function settle(scene: TaskScene, env: TaskEnv, init: InitState): InitState | string {
  const vec = env.env;
  vec.reset(0, init.state, init.fixtures);
  const before = new Float64Array(vec.numEnvs * scene.objects.length * 7);
  const after = new Float64Array(before.length);
  vec.objectPoses(before);
  const hold = new Float32Array(vec.numEnvs * 7);
  const active = new Uint8Array(vec.numEnvs);
  active[0] = 1;
  for (let i = 0; i < SETTLE_STEPS; i++) vec.step(hold, active);
  if (vec.warnings(0) > 0) return `MuJoCo warnings while settling: ${vec.warningText(0)}`;
  vec.objectPoses(after);
  for (let o = 0; o < scene.objects.length; o++) {
    const moved = Math.hypot(after[7 * o] - before[7 * o], after[7 * o + 1] - before[7 * o + 1], after[7 * o + 2] - before[7 * o + 2]);
    if (moved > SETTLE_MOVE_LIMIT) return `${scene.objects[o].name} moved ${(moved * 100).toFixed(1)} cm while settling`;
  }
  const state = vec.getState(0);
  state[0] = 0;
  state.fill(0, 1 + vec.nq);
  return { state, fixtures: init.fixtures };
}

/**
 * Generates `count` settled init states; state i depends only on (seed, i). `env` is any TaskEnv of the scene
 * (env 0 is used). Throws naming the task when a state cannot be sampled in 100 tries.
 */
export function generateInitStates(scene: TaskScene, env: TaskEnv, opts: { task: string; count?: number; seed?: number; onState?: (i: number) => void }): InitStateSet {
  const count = opts.count ?? DEFAULT_INIT_STATES;
  const seed = opts.seed ?? 0;
  const states: InitState[] = [];
  for (let i = 0; i < count; i++) {
    const rng = new Rng((seed * 1_000_003 + i * 7919 + 1) >>> 0);
    let why = '';
    let got: InitState | undefined;
    for (let attempt = 0; attempt < 100 && !got; attempt++) {
      const s = sampleOnce(scene, env, rng);
      const settled = typeof s === 'string' ? s : settle(scene, env, s);
      if (typeof settled === 'string') why = settled;
      else got = quantize(settled);
    }
    if (!got) throw new InitStateError(`${opts.task}: could not sample init state ${i} in 100 tries (last reason: ${why}); check the :init regions of ${scene.problem.file}`);
    states.push(got);
    opts.onState?.(i);
  }
  return { task: opts.task, signature: scene.signature, seed, states };
}

// Stored rows are float32: round once here so generated and loaded states are the same numbers.
function quantize(s: InitState): InitState {
  return { state: Float64Array.from(Float32Array.from(s.state)), fixtures: Float64Array.from(Float32Array.from(s.fixtures)) };
}

export function writeInitStates(file: string, set: InitStateSet, scene: TaskScene, env: TaskEnv): void {
  const { nq, nv, nmocap } = env.env;
  const row = nq + 7 * nmocap;
  const data = new Float32Array(set.states.length * row);
  set.states.forEach((s, i) => {
    data.set(s.state.subarray(1, 1 + nq), i * row);
    data.set(s.fixtures, i * row + nq);
  });
  const json = {
    format: INIT_STATE_FORMAT,
    task: set.task,
    signature: scene.signature,
    seed: set.seed,
    count: set.states.length,
    nq,
    nv,
    nmocap,
    layout: 'rows of float32 LE: qpos (nq), fixture poses (nmocap x pos xyz + quat wxyz); time = 0, qvel = 0',
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  };
  writeFileAtomic(file, JSON.stringify(json, null, 1) + '\n');
}

export type InitSplit = 'all' | 'train' | 'test';
/** Fraction of a task's init states held out as the test split (the last ones). */
export const TEST_FRACTION = 0.2;

/** Indices of a split: test = the last TEST_FRACTION of the states, train = the rest. */
export function splitIndices(count: number, split: InitSplit): number[] {
  const nTest = Math.round(count * TEST_FRACTION);
  const all = Array.from({ length: count }, (_, i) => i);
  return split === 'all' ? all : split === 'train' ? all.slice(0, count - nTest) : all.slice(count - nTest);
}

/** Loads a task's init states, refusing a file made for another model. */
export function loadInitStates(file: string, scene: TaskScene, opts: { task: string; nq: number; nv: number; nmocap: number; split?: InitSplit }): InitState[] {
  const regen = `regenerate it with: riptide tasks init-states ${opts.task}`;
  if (!existsSync(file)) throw new InitStateError(`${file}: no init states for ${opts.task}; ${regen}`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InitStateError(`${file}: not valid JSON (${(e as Error).message}); ${regen}`);
  }
  if (json.format !== INIT_STATE_FORMAT) throw new InitStateError(`${file}: format '${String(json.format)}' is not '${INIT_STATE_FORMAT}'; ${regen}`);
  if (json.signature !== scene.signature) {
    throw new InitStateError(`${file}: made for another version of the scene (signature ${String(json.signature)}, scene has ${scene.signature}); ${regen}`);
  }
  const { nq, nv, nmocap } = opts;
  if (json.nq !== nq || json.nv !== nv || json.nmocap !== nmocap) {
    throw new InitStateError(`${file}: sizes nq ${String(json.nq)} nv ${String(json.nv)} nmocap ${String(json.nmocap)} do not match the model (${nq}, ${nv}, ${nmocap}); ${regen}`);
  }
  const count = Number(json.count);
  const bytes = Buffer.from(String(json.data), 'base64');
  const row = nq + 7 * nmocap;
  if (!Number.isInteger(count) || bytes.length !== count * row * 4) {
    throw new InitStateError(`${file}: data holds ${bytes.length} bytes, expected count ${String(json.count)} x ${row} float32; ${regen}`);
  }
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return splitIndices(count, opts.split ?? 'all').map((i) => {
    const state = new Float64Array(1 + nq + nv);
    state.set(data.subarray(i * row, i * row + nq), 1);
    return { state, fixtures: Float64Array.from(data.subarray(i * row + nq, (i + 1) * row)) };
  });
}
