// `riptide export`: a checkpoint to ship. Weights only (no Adam state), optionally the EMA weights, optionally
// rounded to BF16 (half the size); the preset and norm stats come along, and trainer_state.json says where it came from.
import { existsSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { RiptideError } from '../errors.ts';
import { CHECKPOINT_FILES } from '../model/checkpoint.ts';
import { Pi0Policy } from '../model/pi0.ts';

export const EXPORT_FORMAT = 'riptide.export.v1';

export interface ExportOptions {
  from: string;
  out: string;
  dtype: 'F32' | 'BF16';
  ema: boolean;
}

export function exportCheckpoint(o: ExportOptions): void {
  if (existsSync(o.out)) throw new RiptideError(`--out ${o.out} already exists; remove it or choose a new folder (export never overwrites)`);
  const { policy, checkpoint } = Pi0Policy.fromCheckpoint(o.from, { optimizer: 'skip', threads: 1 });
  if (o.ema) {
    if (!checkpoint.ema) throw new RiptideError(`${path.join(checkpoint.dir, CHECKPOINT_FILES.ema)}: not present (the run had no EMA); export without --ema`);
    policy.params().set(checkpoint.ema);
  }
  policy.save(o.out, {
    optimizer: false,
    dtype: o.dtype,
    trainerState: { format: EXPORT_FORMAT, from: checkpoint.dir, weights: o.ema ? 'ema' : 'model', dtype: o.dtype, trainer_state: checkpoint.trainerState },
  });
  const bytes = readdirSync(o.out).reduce((n, f) => n + statSync(path.join(o.out, f)).size, 0);
  console.log(`${checkpoint.dir} -> ${path.resolve(o.out)}: ${policy.paramCount.toLocaleString('en-US')} ${o.dtype} weights${o.ema ? ' (EMA)' : ''}, ${(bytes / 2 ** 20).toFixed(1)} MiB`);
}
