// What every RECAP stage gets (the config, where it came from for error messages, the console hooks) and the small
// lookups the stages share.
import { existsSync } from 'node:fs';
import path from 'node:path';

import type { RecapConfig } from '../../config/recap-config.ts';
import { demoFiles } from '../../data/dataset.ts';
import { readLiberoHdf5 } from '../../data/libero-hdf5.ts';
import { RiptideError } from '../../errors.ts';
import { listCheckpoints, type TrainHooks } from '../ript-trainer.ts';

export interface RecapContext {
  config: RecapConfig;
  /** The config file (or 'the command line'): error messages name it. */
  where: string;
  hooks: TrainHooks;
}

/** A checkpoint folder as given, or the newest checkpoint of a run folder (one holding checkpoints/step_N). */
export function newestCheckpoint(dir: string, what: string): string {
  const newest = listCheckpoints(dir).at(-1);
  if (newest) return newest.dir;
  if (existsSync(path.join(dir, 'config.json'))) return dir;
  throw new RiptideError(`${dir}: no ${what} checkpoint there (neither a checkpoint folder nor a run folder with checkpoints/step_N); run its stage first or pass its folder`);
}

/** The camera image size of the demos (square): rollouts are recorded at it so that one dataset holds both. */
export async function demoImageSize(paths: readonly string[]): Promise<number> {
  const f = await readLiberoHdf5(demoFiles(paths)[0]);
  try {
    const d = f.demos[0];
    if (d.height !== d.width) throw new RiptideError(`${f.file}: images are ${d.height}x${d.width}; RECAP records rollouts at the demos' size and needs square images`);
    return d.height;
  } finally {
    f.close();
  }
}
