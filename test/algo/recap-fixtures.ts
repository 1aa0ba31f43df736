// Fixtures of the recap-*.test.ts files: a temp folder, one scripted-expert demo of libero_goal/0 at 32x32 (a
// success without the `success` attr, as SFT demos are), a tiny PI0 checkpoint standing in for the SFT policy, and
// a tiny-sized RECAP config around them with quiet hooks.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { writeRolloutFile, type RolloutEpisode } from '../../src/algo/recap/collect.ts';
import type { RecapContext } from '../../src/algo/recap/context.ts';
import { loadRecapConfig } from '../../src/config/recap-config.ts';
import { collectTaskDemos } from '../../src/data/collect.ts';
import { readLiberoHdf5 } from '../../src/data/libero-hdf5.ts';
import { Pi0Policy } from '../../src/model/pi0.ts';

export const TASK = 'libero_goal/0';
export const IMAGE = 32;

export function tempDir(name: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `riptide-recap-${name}-`));
}

/** One expert demo of TASK in `<dir>/demos`; returns the file. */
export async function expertDemo(dir: string): Promise<string> {
  const r = await collectTaskDemos({ task: TASK, perTask: 1, out: path.join(dir, 'demos'), seed: 0, noise: 0.05, image: IMAGE });
  return r.file!;
}

/** A fresh tiny PI0 saved as a checkpoint folder: the run's "SFT" policy. */
export function tinyPolicy(dir: string): string {
  const ck = path.join(dir, 'sft');
  Pi0Policy.create({ preset: 'tiny', seed: 0 }).save(ck);
  return ck;
}

/** Tiny sizes everywhere; `overrides` (key=value) go last. */
export function tinyContext(dir: string, demos: string, policy: string | null, overrides: string[] = []): RecapContext & { lines: string[] } {
  const config = loadRecapConfig(undefined, [
    `output_dir=${path.join(dir, 'run')}`,
    `tasks=[${TASK}]`,
    `policy.checkpoint=${policy ?? 'null'}`,
    'policy.preset=tiny',
    `data.demos=[${demos}]`,
    'rollout.max_episode_length=12',
    'rollout.num_parallel_envs=1',
    'rollout.env_actors=1',
    'collect.episodes_per_task=2',
    'value.preset=tiny',
    'value.pretrain_steps=2',
    'value.finetune_steps=2',
    'value.batch_size=8',
    'value.micro_batch_size=4',
    'value.log_freq=1',
    'finetune.steps=2',
    'finetune.batch_size=8',
    'finetune.micro_batch_size=4',
    'finetune.warmup_steps=0',
    'eval.init_states=1',
    'runtime.threads=1',
    ...overrides,
  ]);
  const lines: string[] = [];
  return { config, where: 'recap.yaml', hooks: { log: (l) => lines.push(l) }, lines };
}

/** The expert demo's episode (init state, actions), cut to `length` steps: a success when not cut. */
export async function demoEpisode(file: string, length?: number): Promise<RolloutEpisode> {
  const f = await readLiberoHdf5(file);
  try {
    const d = f.demos[0];
    const T = length ?? d.length;
    return { init: Number(d.attr('riptide_init_index')!.value), seed: 7, success: T === d.length, length: T, actions: Float32Array.from(d.actions()) };
  } finally {
    f.close();
  }
}

/** A rollout file of TASK in `<dir>/mixed` holding the expert episode replayed (a success) and its first 20 steps (a failure). */
export async function mixedRollouts(dir: string, demo: string): Promise<string> {
  const episodes = [await demoEpisode(demo), await demoEpisode(demo, 20)];
  return writeRolloutFile(TASK, episodes, { out: path.join(dir, 'mixed'), image: IMAGE });
}
