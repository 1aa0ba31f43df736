// LIBERO demo files: writer -> reader round trip key by key against LIBERO's schema, atomic writes, the image
// convention, the state sources of LIBERO's and OpenVLA's files, and errors that name the demo and the key.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import h5wasm from 'h5wasm/node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  h5Ready,
  LiberoHdf5Writer,
  LIBERO_DATA_ATTRS,
  LIBERO_DEMO_ATTRS,
  LIBERO_DEMO_DATASETS,
  quatToAxisAngle,
  readLiberoHdf5,
  rotate180,
  writeLiberoHdf5,
  type LiberoDemo,
  type LiberoMeta,
} from '../../src/data/libero-hdf5.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-hdf5-'));
const N = 12; // flat state size of the fake model
const S = 32; // image size

/** A demo whose every value is distinct and derived from (key, t, j), so a mix-up shows. */
function fakeDemo(T: number, tag: number): LiberoDemo {
  const rows = (w: number, base: number) => Float64Array.from({ length: T * w }, (_, i) => tag * 1000 + base + i * 0.001);
  const bytes = (n: number, base: number) => Uint8Array.from({ length: n }, (_, i) => (tag * 31 + base + i * 7) % 256);
  const last = () => Uint8Array.from({ length: T }, (_, t) => (t === T - 1 ? 1 : 0));
  const states = rows(N, 100);
  return {
    data: {
      actions: rows(7, 0),
      states,
      robot_states: rows(9, 200),
      rewards: last(),
      dones: last(),
      'obs/agentview_rgb': bytes(T * S * S * 3, 1),
      'obs/eye_in_hand_rgb': bytes(T * S * S * 3, 2),
      'obs/gripper_states': rows(2, 300),
      'obs/joint_states': rows(7, 400),
      'obs/ee_states': rows(6, 500),
      'obs/ee_pos': rows(3, 600),
      'obs/ee_ori': rows(3, 700),
    },
    height: S,
    width: S,
    modelFile: `<mujoco model="fake ${tag}"/>`,
    initState: states.slice(0, N),
    extraAttrs: { riptide_init_index: tag, riptide_fixture_poses: Float64Array.from([1, 2, 3, 1, 0, 0, 0]) },
  };
}

const META: LiberoMeta = {
  envName: 'Libero_Tabletop_Manipulation',
  problemInfo: { problem_name: 'libero_tabletop_manipulation', domain_name: 'robosuite', language_instruction: 'open the middle drawer of the cabinet' },
  imageConvention: 'opengl',
  bddlFileName: '/x/open_the_middle_drawer_of_the_cabinet.bddl',
  bddlFileContent: '(define (problem LIBERO_Tabletop_Manipulation) ...)',
  envArgs: { type: 1, env_name: 'Libero_Tabletop_Manipulation', env_kwargs: { control_freq: 20 } },
  obsTiming: 'before_action',
};

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const same = (a: ArrayBufferView, b: ArrayBufferView) => a.constructor === b.constructor && bytesOf(a).equals(bytesOf(b));

async function rejects(p: Promise<unknown>, check: (e: Error) => boolean, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(check(e as Error), `${what}: wrong error: ${(e as Error).message}`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

/** Writes a file by hand with h5wasm (a user's file): demos as key -> [data, shape, dtype], data attrs as given. */
async function handWritten(file: string, attrs: Record<string, string>, demos: Record<string, [Float64Array | Uint8Array, number[]]>[]): Promise<void> {
  await h5Ready();
  const f = new h5wasm.File(file, 'w');
  const g = f.create_group('data');
  for (const [k, v] of Object.entries(attrs)) g.create_attribute(k, v);
  demos.forEach((d, i) => {
    const dg = g.create_group(`demo_${i}`);
    dg.create_group('obs');
    for (const [k, [data, shape]] of Object.entries(d)) dg.create_dataset({ name: k, data, shape, dtype: data instanceof Uint8Array ? '<B' : '<d' });
  });
  f.close();
}

test('round trip: 2 demos of different lengths come back exactly, key by key against LIBERO schema', async () => {
  const file = path.join(tmp, 'task_demo.hdf5');
  const demos = [fakeDemo(7, 1), fakeDemo(13, 2)];
  await writeLiberoHdf5(file, META, demos);
  const f = await readLiberoHdf5(file);
  try {
    // data attrs: every LIBERO key, with LIBERO's dtypes (h5py writes str as vlen string, int as int64).
    for (const a of LIBERO_DATA_ATTRS) assert.is(f.attr(a.key)?.dtype, a.dtype, `data attr ${a.key}`);
    assert.equal(f.meta.missingAttrs, []);
    assert.is(f.meta.envName, META.envName);
    assert.equal(f.meta.problemInfo, META.problemInfo);
    assert.equal(f.meta.envArgs, META.envArgs);
    assert.is(f.meta.bddlFileName, META.bddlFileName);
    assert.is(f.meta.bddlFileContent, META.bddlFileContent);
    assert.is(f.meta.imageConvention, 'opengl');
    assert.is(f.meta.obsTiming, 'before_action');
    assert.is(f.meta.numDemos, 2);
    assert.is(f.meta.total, 20);
    assert.equal(f.demos.map((d) => d.key), ['demo_0', 'demo_1']);
    f.demos.forEach((d, i) => {
      const want = demos[i];
      const T = want.data.actions.length / 7;
      assert.is(d.length, T);
      for (const s of LIBERO_DEMO_DATASETS) {
        const shape = s.shape.map((x) => (x === 'T' ? T : x === 'N' ? N : x === 'H' || x === 'W' ? S : x));
        assert.equal(d.info(s.key), { dtype: s.dtype, shape }, `demo_${i}/${s.key} dtype and shape`);
      }
      for (const a of LIBERO_DEMO_ATTRS) assert.is(d.attr(a.key)?.dtype, a.dtype, `demo_${i} attr ${a.key}`);
      assert.is(d.attr('num_samples')?.value, T);
      const got = d.load();
      for (const s of LIBERO_DEMO_DATASETS) assert.ok(same(got.data[s.key], want.data[s.key]), `demo_${i}/${s.key} values`);
      assert.is(got.modelFile, want.modelFile);
      assert.equal(Array.from(got.initState), Array.from(want.initState));
      assert.equal(got.extraAttrs?.riptide_init_index, i + 1);
      assert.equal(Array.from(got.extraAttrs?.riptide_fixture_poses as Float64Array), [1, 2, 3, 1, 0, 0, 0]);
    });
  } finally {
    f.close();
  }
  assert.equal(readdirSync(tmp).filter((n) => n.includes('.tmp-')), [], 'no temp file left behind');
});

test('atomic write: a rejected demo leaves the previous file as it was, and no temp file', async () => {
  const file = path.join(tmp, 'atomic_demo.hdf5');
  await writeLiberoHdf5(file, META, [fakeDemo(5, 1)]);
  const before = readFileSync(file);
  const bad = fakeDemo(6, 2);
  bad.data['obs/ee_pos'] = new Float64Array(5);
  await rejects(writeLiberoHdf5(file, META, [fakeDemo(4, 3), bad]), (e) => /demo_1: obs\/ee_pos has 5 values, expected 18/.test(e.message), 'short ee_pos');
  assert.ok(readFileSync(file).equals(before));
  assert.equal(readdirSync(tmp).filter((n) => n.includes('.tmp-')), []);
  // Streaming (the collector's way): demos appended one by one; abort() drops the temp file, finish() renames it.
  const w = await LiberoHdf5Writer.create(file, META);
  w.add(fakeDemo(3, 4));
  assert.ok(readdirSync(tmp).some((n) => n.includes('.tmp-')), 'writing into a temp sibling');
  w.abort();
  assert.ok(readFileSync(file).equals(before), 'abort keeps the previous file');
  assert.equal(readdirSync(tmp).filter((n) => n.includes('.tmp-')), []);
  const w2 = await LiberoHdf5Writer.create(file, META);
  w2.add(fakeDemo(3, 4));
  w2.add(fakeDemo(2, 5));
  w2.finish();
  const f = await readLiberoHdf5(file);
  assert.equal([f.meta.numDemos, f.meta.total, f.demos.map((d) => d.length)], [2, 5, [3, 2]]);
  f.close();
  assert.throws(() => w2.add(fakeDemo(1, 1)), /writer is closed/);
});

test('images: the file holds raw OpenGL rows; image() gives the policy view (rotated 180), opencv files mirrored', async () => {
  const file = path.join(tmp, 'img_demo.hdf5');
  const d = fakeDemo(3, 5);
  await writeLiberoHdf5(file, META, [d]);
  const f = await readLiberoHdf5(file);
  const frame = S * S * 3;
  const raw = d.data['obs/eye_in_hand_rgb'].subarray(2 * frame, 3 * frame);
  const want = new Uint8Array(frame);
  rotate180(raw, S, S, want);
  assert.ok(same(f.demos[0].rawImage('eye_in_hand', 2), raw));
  assert.ok(same(f.demos[0].image('eye_in_hand', 2), want));
  // top-left pixel of the policy view = bottom-right pixel of the stored frame
  assert.equal(Array.from(want.subarray(0, 3)), Array.from(raw.subarray(frame - 3)));
  f.close();
  const cv = path.join(tmp, 'cv_demo.hdf5');
  await writeLiberoHdf5(cv, { ...META, imageConvention: 'opencv' }, [d]);
  const g = await readLiberoHdf5(cv);
  const img = g.demos[0].image('agentview', 0);
  const src = d.data['obs/agentview_rgb'];
  for (const [y, x] of [[0, 0], [5, 9], [31, 31]]) {
    assert.equal(Array.from(img.subarray((y * S + x) * 3, (y * S + x) * 3 + 3)), Array.from(src.subarray((y * S + (S - 1 - x)) * 3, (y * S + (S - 1 - x)) * 3 + 3)));
  }
  g.close();
});

test("user files: LIBERO's own (after-action obs) and OpenVLA's (no attrs, robot_states only) are read", async () => {
  const T = 4;
  const f32 = S * S * 3;
  const images = (): [Uint8Array, number[]] => [new Uint8Array(T * f32), [T, S, S, 3]];
  const actions: [Float64Array, number[]] = [new Float64Array(T * 7).fill(0.5), [T, 7]];
  // robot_states: gripper qpos 2, eef pos 3, eef quat xyzw 4 (90 degrees about z)
  const c = Math.SQRT1_2;
  const robot = Float64Array.from({ length: T * 9 }, (_, i) => [0.04, -0.04, 0.1, 0.2, 0.3, 0, 0, c, c][i % 9]);
  const libero = path.join(tmp, 'libero_demo.hdf5');
  await handWritten(libero, { macros_image_convention: 'opengl', env_name: 'Libero_Kitchen_Tabletop_Manipulation' }, [
    { actions, 'obs/agentview_rgb': images(), 'obs/eye_in_hand_rgb': images(), robot_states: [robot, [T, 9]] },
  ]);
  const f = await readLiberoHdf5(libero);
  assert.is(f.meta.obsTiming, 'after_action', "create_dataset.py's files record obs after the action");
  assert.ok(f.meta.missingAttrs.includes('problem_info') && f.meta.missingAttrs.includes('total'));
  const st = f.demos[0].policyStates();
  const aa = new Float64Array(3);
  quatToAxisAngle([0, 0, c, c], aa);
  assert.ok(Math.abs(aa[2] - Math.PI / 2) < 1e-12, 'quat2axisangle of 90 degrees about z');
  assert.equal(Array.from(st.subarray(0, 8)).map((x) => +x.toFixed(12)), [0.1, 0.2, 0.3, 0, 0, +(Math.PI / 2).toFixed(12), 0.04, -0.04]);
  f.close();
  const openvla = path.join(tmp, 'openvla_demo.hdf5');
  await handWritten(openvla, {}, [{ actions, 'obs/agentview_rgb': images(), 'obs/eye_in_hand_rgb': images(), 'obs/ee_states': [new Float64Array(T * 6), [T, 6]], 'obs/gripper_states': [new Float64Array(T * 2), [T, 2]] }]);
  const g = await readLiberoHdf5(openvla);
  assert.is(g.meta.obsTiming, 'before_action');
  assert.is(g.meta.imageConvention, 'opengl');
  assert.is(g.demos[0].stateSource, 'obs/ee_states + obs/gripper_states');
  g.close();
});

test('a missing key is an error naming the file, the demo, the key and what is expected', async () => {
  const T = 3;
  const img = (): [Uint8Array, number[]] => [new Uint8Array(T * S * S * 3), [T, S, S, 3]];
  const ok = { actions: [new Float64Array(T * 7), [T, 7]] as [Float64Array, number[]], 'obs/agentview_rgb': img(), 'obs/eye_in_hand_rgb': img(), robot_states: [new Float64Array(T * 9), [T, 9]] as [Float64Array, number[]] };
  const noWrist = path.join(tmp, 'nowrist_demo.hdf5');
  const { 'obs/eye_in_hand_rgb': _drop, ...rest } = ok;
  await handWritten(noWrist, {}, [ok, rest]);
  await rejects(
    readLiberoHdf5(noWrist),
    (e) => e.name === 'DemoFileError' && e.message.includes(noWrist) && e.message.includes("data/demo_1 has no 'obs/eye_in_hand_rgb'") && e.message.includes('uint8 (T, H, W, 3)'),
    'missing wrist camera',
  );
  const noState = path.join(tmp, 'nostate_demo.hdf5');
  const { robot_states: _r, ...stateless } = ok;
  await handWritten(noState, {}, [{ ...stateless, 'obs/ee_pos': [new Float64Array(T * 3), [T, 3]] }]);
  await rejects(
    readLiberoHdf5(noState),
    (e) => /data\/demo_0 has no policy state source/.test(e.message) && e.message.includes('has obs/ee_pos') && e.message.includes('missing obs/ee_ori, obs/gripper_states'),
    'no state source',
  );
  const noActions = path.join(tmp, 'noactions_demo.hdf5');
  const { actions: _a, ...actionless } = ok;
  await handWritten(noActions, {}, [actionless]);
  await rejects(readLiberoHdf5(noActions), (e) => e.message.includes("data/demo_0 has no 'actions' (expected float64 (T, 7) actions)"), 'no actions');
  const notH5 = path.join(tmp, 'text_demo.hdf5');
  writeFileSync(notH5, 'hello');
  await rejects(readLiberoHdf5(notH5), (e) => e.message.includes(notH5) && /not a readable HDF5 file/.test(e.message), 'not HDF5');
  await rejects(readLiberoHdf5(path.join(tmp, 'absent.hdf5')), (e) => /no such file/.test(e.message), 'absent');
  assert.ok(existsSync(tmp));
});

test.run();
