// `riptide export`: a weights-only checkpoint (no optimizer state) that loads as a policy, exact in F32, the EMA
// weights with --ema, within BF16 rounding with --dtype bf16, its provenance in trainer_state.json; an existing
// --out and --ema on a run without EMA are refused with the fix.
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { EXPORT_FORMAT, exportCheckpoint } from '../../src/cli/export.ts';
import { CHECKPOINT_FILES } from '../../src/model/checkpoint.ts';
import { Pi0Policy } from '../../src/model/pi0.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'riptide-export-'));
const trained = Pi0Policy.create({ preset: 'tiny', seed: 0, threads: 1 });
const ema = trained.params().map((x, i) => x + 0.01 * Math.sin(i));
const withEma = path.join(dir, 'with-ema');
trained.save(withEma, { ema, trainerState: { step: 7 } });
const plain = path.join(dir, 'plain');
trained.save(plain);

test('export: F32 weights exactly, no optimizer state, provenance in trainer_state.json', () => {
  const out = path.join(dir, 'f32');
  exportCheckpoint({ from: withEma, out, dtype: 'F32', ema: false });
  assert.not.ok(existsSync(path.join(out, CHECKPOINT_FILES.optimizer)));
  assert.not.ok(existsSync(path.join(out, CHECKPOINT_FILES.ema)));
  const { policy, checkpoint } = Pi0Policy.fromCheckpoint(out, { threads: 1 });
  assert.equal(policy.params(), trained.params());
  assert.is(checkpoint.step, null);
  assert.equal(checkpoint.trainerState, { format: EXPORT_FORMAT, from: withEma, weights: 'model', dtype: 'F32', trainer_state: { step: 7 } });
});

test('export: --ema --dtype bf16 gives the EMA weights within BF16 rounding', () => {
  const out = path.join(dir, 'ema-bf16');
  exportCheckpoint({ from: withEma, out, dtype: 'BF16', ema: true });
  const w = Pi0Policy.fromCheckpoint(out, { threads: 1 }).policy.params();
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] - ema[i]) - Math.abs(ema[i]) * 2 ** -8);
  assert.ok(worst <= 0, `a weight is off by ${worst} more than BF16 rounding`);
});

test('export: an existing --out, and --ema without EMA weights, are refused', () => {
  assert.throws(() => exportCheckpoint({ from: plain, out: path.join(dir, 'f32'), dtype: 'F32', ema: false }), /--out .*f32 already exists; remove it or choose a new folder/);
  assert.throws(() => exportCheckpoint({ from: plain, out: path.join(dir, 'none'), dtype: 'F32', ema: true }), /ema.safetensors: not present \(the run had no EMA\); export without --ema/);
  assert.not.ok(existsSync(path.join(dir, 'none')));
});

test.run();
