// Full-step enumeration over (file, demo, step): sample counts per mode, every step once per epoch, the pad mask of
// a tail window, seeded per-epoch shuffles, batch contents, LIBERO's after-action timing, and norm stats.
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { DemoDataset, windowCount } from '../../src/data/dataset.ts';
import { rotate180, writeLiberoHdf5, type LiberoDemo, type LiberoMeta } from '../../src/data/libero-hdf5.ts';
import { readNormStats, writeNormStats } from '../../src/model/norm-stats.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'riptide-dataset-'));
const S = 16;

/** Demo `tag` of T steps: action[t][j] = tag*1000 + t*10 + j, state row t from ee_pos/ee_ori/gripper = tag*100 + t + dim/10. */
function demo(T: number, tag: number, over: Partial<Record<'actions' | 'pos' | 'ori' | 'grip', (t: number, j: number) => number>> = {}): LiberoDemo {
  const rows = (w: number, f: (t: number, j: number) => number) => Float64Array.from({ length: T * w }, (_, i) => f(Math.floor(i / w), i % w));
  const img = (cam: number) => Uint8Array.from({ length: T * S * S * 3 }, (_, i) => (i * 13 + tag * 7 + cam * 101) % 251);
  const last = () => Uint8Array.from({ length: T }, (_, t) => (t === T - 1 ? 1 : 0));
  const state = (d0: number) => (t: number, j: number) => tag * 100 + t + (d0 + j) / 10;
  const states = rows(5, (t, j) => t + j);
  const pos = rows(3, over.pos ?? state(0));
  const ori = rows(3, over.ori ?? state(3));
  return {
    data: {
      actions: rows(7, over.actions ?? ((t, j) => tag * 1000 + t * 10 + j)),
      states,
      robot_states: rows(9, () => 0),
      rewards: last(),
      dones: last(),
      'obs/agentview_rgb': img(0),
      'obs/eye_in_hand_rgb': img(1),
      'obs/gripper_states': rows(2, over.grip ?? state(6)),
      'obs/joint_states': rows(7, () => 0),
      'obs/ee_states': rows(6, (t, j) => (j < 3 ? pos[t * 3 + j] : ori[t * 3 + j - 3])),
      'obs/ee_pos': pos,
      'obs/ee_ori': ori,
    },
    height: S,
    width: S,
    modelFile: '<mujoco/>',
    initState: states.slice(0, 5),
  };
}

const META: LiberoMeta = {
  envName: 'Libero_Tabletop_Manipulation',
  problemInfo: { problem_name: 'libero_tabletop_manipulation', domain_name: 'robosuite', language_instruction: 'bddl words' },
  imageConvention: 'opengl',
  bddlFileName: 'x.bddl',
  bddlFileContent: '',
  envArgs: {},
  obsTiming: 'before_action',
};

const fileA = path.join(tmp, 'KITCHEN_SCENE3_turn_on_the_stove_demo.hdf5');
const fileB = path.join(tmp, 'put_the_bowl_on_the_plate_demo.hdf5');
const demosA = [demo(60, 1), demo(30, 2)];
const demosB = [demo(75, 3)];
await writeLiberoHdf5(fileA, META, demosA);
await writeLiberoHdf5(fileB, META, demosB);
const LENGTHS = [60, 30, 75];

const pairs = (a: Int32Array) => Array.from({ length: a.length / 2 }, (_, i) => `${a[2 * i]}:${a[2 * i + 1]}`);

test('sample counts: pad = sum of T, fit = sum of max(0, T - 49), random = one per demo', async () => {
  assert.equal([windowCount(60, 'pad'), windowCount(60, 'fit'), windowCount(49, 'fit'), windowCount(50, 'fit'), windowCount(30, 'random')], [60, 11, 0, 1, 1]);
  for (const [mode, want] of [['pad', 165], ['fit', 11 + 0 + 26], ['random', 3]] as const) {
    const ds = await DemoDataset.open([fileA, fileB], { mode });
    assert.is(ds.size, want, mode);
    assert.is(ds.epoch(0).length, 2 * want);
    ds.close();
  }
  const folder = await DemoDataset.open([tmp]);
  assert.is(folder.size, 165, 'a folder gives its .hdf5 files');
  folder.close();
});

test('every (demo, step) window appears exactly once per epoch, in pad and fit modes', async () => {
  for (const mode of ['pad', 'fit'] as const) {
    const ds = await DemoDataset.open([fileA, fileB], { mode, seed: 3 });
    const want = LENGTHS.flatMap((T, d) => Array.from({ length: windowCount(T, mode) }, (_, s) => `${d}:${s}`));
    for (const e of [0, 1]) {
      const got = pairs(ds.epoch(e));
      assert.is(new Set(got).size, got.length, `${mode} epoch ${e}: no duplicates`);
      assert.equal([...got].sort(), [...want].sort(), `${mode} epoch ${e}: all windows`);
    }
    const batches = [...ds.batches(0, 64)];
    assert.equal(batches.map((b) => b.length / 2), mode === 'pad' ? [64, 64, 37] : [37]);
    assert.equal(batches.flatMap((b) => pairs(b)), pairs(ds.epoch(0)), 'batches split the epoch in order');
    assert.is([...ds.batches(0, 64, { dropLast: true })].length, mode === 'pad' ? 2 : 0);
    ds.close();
  }
});

test('shuffles differ per epoch and repeat per seed; shuffle off gives index order', async () => {
  const a = await DemoDataset.open([fileA, fileB], { seed: 7 });
  const b = await DemoDataset.open([fileA, fileB], { seed: 7 });
  const c = await DemoDataset.open([fileA, fileB], { seed: 8 });
  const plain = await DemoDataset.open([fileA, fileB], { shuffle: false });
  assert.equal(pairs(a.epoch(0)), pairs(b.epoch(0)), 'same seed, same epoch: same order');
  assert.equal(pairs(a.epoch(5)), pairs(b.epoch(5)));
  assert.not.equal(pairs(a.epoch(0)), pairs(a.epoch(1)), 'next epoch, new order');
  assert.not.equal(pairs(a.epoch(0)), pairs(c.epoch(0)), 'other seed, other order');
  assert.equal(pairs(plain.epoch(0)).slice(0, 3), ['0:0', '0:1', '0:2']);
  assert.equal(pairs(plain.epoch(0)).slice(-1), ['2:74']);
  const r = await DemoDataset.open([fileA, fileB], { mode: 'random', seed: 7, shuffle: false });
  const r2 = await DemoDataset.open([fileA, fileB], { mode: 'random', seed: 7, shuffle: false });
  const starts = (e: number) => pairs(r.epoch(e));
  assert.equal(starts(0).map((p) => p.split(':')[0]), ['0', '1', '2'], 'random: one window per demo');
  assert.equal(starts(0), pairs(r2.epoch(0)), 'random starts repeat per seed');
  assert.not.equal([0, 1, 2, 3].map(starts).join('|'), [4, 5, 6, 7].map(starts).join('|'), 'random starts change with the epoch');
  for (const ds of [a, b, c, plain, r, r2]) ds.close();
});

test('a tail window: 20 real actions then 30 padded (repeating the last), state and images of its step', async () => {
  const ds = await DemoDataset.open([fileA, fileB], { mode: 'pad' });
  const batch = ds.readBatch(Int32Array.from([0, 40, 2, 3]));
  assert.is(batch.size, 2);
  assert.equal(Array.from(batch.actionIsPad.subarray(0, 50)), [...Array(20).fill(0), ...Array(30).fill(1)]);
  assert.equal(Array.from(batch.actionIsPad.subarray(50, 100)), Array(50).fill(0), 'a window that fits has no pad');
  const act = (b: number, h: number) => Array.from(batch.actions.subarray((b * 50 + h) * 7, (b * 50 + h + 1) * 7));
  const row = (tag: number, t: number) => Array.from({ length: 7 }, (_, j) => Math.fround(tag * 1000 + t * 10 + j));
  assert.equal(act(0, 0), row(1, 40));
  assert.equal(act(0, 19), row(1, 59));
  assert.equal(act(0, 20), row(1, 59), 'padded steps repeat the last action');
  assert.equal(act(0, 49), row(1, 59));
  assert.equal(act(1, 49), row(3, 52));
  const state = Array.from(batch.state.subarray(0, 8));
  assert.equal(state, [0, 1, 2, 3, 4, 5, 6, 7].map((d) => Math.fround(100 + 40 + d / 10)), 'ee_pos, ee_ori (axis-angle), gripper at step 40');
  const frame = S * S * 3;
  const want = new Uint8Array(frame);
  rotate180(demosA[0].data['obs/eye_in_hand_rgb'].subarray(40 * frame, 41 * frame), S, S, want);
  assert.ok(Buffer.from(batch.images.subarray(frame, 2 * frame)).equals(Buffer.from(want)), 'wrist camera, as the policy sees it');
  rotate180(demosB[0].data['obs/agentview_rgb'].subarray(3 * frame, 4 * frame), S, S, want);
  assert.ok(Buffer.from(batch.images.subarray(2 * frame, 3 * frame)).equals(Buffer.from(want)), 'agentview of sample 1');
  assert.equal(batch.prompts, ['turn on the stove', 'put the bowl on the plate'], "prompts from LIBERO's file names");
  assert.equal(Array.from(batch.refs), [0, 40, 2, 3]);
  assert.throws(() => ds.readBatch(Int32Array.from([1, 30])), /step 30 outside 0..29/);
  ds.close();
});

test("LIBERO's after-action files: obs[s] pairs with actions[s+1..], T - 1 samples per demo", async () => {
  const file = path.join(tmp, 'after', 'after_demo.hdf5');
  mkdirSync(path.dirname(file), { recursive: true });
  await writeLiberoHdf5(file, { ...META, obsTiming: 'after_action' }, [demo(60, 4)]);
  const ds = await DemoDataset.open([file], { mode: 'pad' });
  assert.is(ds.size, 59);
  const b = ds.readBatch(Int32Array.from([0, 0]));
  assert.equal(Array.from(b.actions.subarray(0, 7)), Array.from({ length: 7 }, (_, j) => 4000 + 10 + j));
  assert.is(b.state[0], Math.fround(400), 'state of obs[0]');
  assert.equal(Array.from(b.actionIsPad).indexOf(1), -1);
  assert.is(ds.readBatch(Int32Array.from([0, 58])).actionIsPad.indexOf(1), 1, 'the last obs has one real action');
  const asIs = await DemoDataset.open([file], { mode: 'fit', obsTiming: 'before_action' });
  assert.is(asIs.size, 11, 'timing override');
  asIs.close();
  ds.close();
});

test('norm stats of a known tiny dataset, in openpi norm_stats.json format', async () => {
  const file = path.join(tmp, 'tiny', 'tiny_demo.hdf5');
  mkdirSync(path.dirname(file), { recursive: true });
  // 4 steps: action[t] = (t, 2t, 0, 0, 0, 0, -1); state = (t, 0, 0, 1, 1, 1, 0.04, -0.04)
  await writeLiberoHdf5(file, META, [
    demo(4, 0, {
      actions: (t, j) => (j === 0 ? t : j === 1 ? 2 * t : j === 6 ? -1 : 0),
      pos: (t, j) => (j === 0 ? t : 0),
      ori: () => 1,
      grip: (_t, j) => (j === 0 ? 0.04 : -0.04),
    }),
  ]);
  const ds = await DemoDataset.open([file]);
  const st = ds.normStats();
  const near = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol;
  assert.ok(near(st.actions.mean[0], 1.5) && near(st.actions.std[0], Math.sqrt(1.25)), `${st.actions.mean[0]} ${st.actions.std[0]}`);
  assert.ok(near(st.actions.mean[1], 3) && near(st.actions.std[1], Math.sqrt(5)));
  assert.ok(near(st.actions.mean[6], -1) && near(st.actions.std[6], 0));
  assert.equal(st.state.mean.map((x) => +x.toFixed(9)), [1.5, 0, 0, 1, 1, 1, 0.04, -0.04]);
  assert.ok(near(st.state.std[0], Math.sqrt(1.25)) && st.state.std.slice(1).every((s) => near(s, 0)));
  assert.ok(near(st.actions.q01![0], 0, 1e-6), `q01 ${st.actions.q01![0]}`);
  assert.ok(near(st.actions.q99![0], 3, 1e-3), `q99 ${st.actions.q99![0]}`);
  const out = path.join(tmp, 'tiny', 'norm_stats.json');
  writeNormStats(out, st);
  assert.equal(readNormStats(out), st);
  ds.close();
});

test.run();
