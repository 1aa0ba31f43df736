// `riptide sim expert` and `riptide sim render`: the bowl-and-plate scene end to end.
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { BowlPlateEpisodes } from '../tasks/bowl-plate-episodes.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { encodePng } from '../png.ts';
import { ProgressLine } from './progress.ts';

export async function runExpertCheck(opts: { episodes: number; seed: number; envs: number }): Promise<void> {
  const envs = Math.min(opts.envs, opts.episodes);
  const runner = BowlPlateEpisodes.create({ numEnvs: envs });
  const progress = new ProgressLine('expert episodes', opts.episodes);
  const t0 = performance.now();
  let successes = 0;
  let steps = 0;
  const failures: number[] = [];
  try {
    for (let first = 0; first < opts.episodes; first += envs) {
      const seeds = Array.from({ length: Math.min(envs, opts.episodes - first) }, (_, i) => opts.seed + first + i);
      const results = runner.runExpert(seeds);
      for (const r of results) {
        steps += r.steps;
        if (r.success) successes++;
        else failures.push(r.seed);
      }
      progress.update(first + seeds.length, `${successes} successes`);
    }
  } finally {
    runner.close();
  }
  progress.done();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`On(bowl, plate): ${successes}/${opts.episodes} placements succeeded (seeds ${opts.seed}..${opts.seed + opts.episodes - 1})`);
  if (failures.length) console.log(`failed seeds: ${failures.join(' ')}`);
  console.log(`${steps} control steps in ${seconds.toFixed(1)} s (${(steps / seconds).toFixed(0)} env steps/s, ${envs} envs, one thread)`);
}

export async function renderExample(opts: { out: string; size: number; seed: number }): Promise<void> {
  const runner = BowlPlateEpisodes.create({ numEnvs: 1, render: { width: opts.size, height: opts.size } });
  try {
    const image = runner.renderBothCameras(opts.seed);
    const out = path.resolve(opts.out);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileAtomic(out, encodePng(image, 2 * opts.size, opts.size));
    console.log(`wrote ${out} (agentview | robot0_eye_in_hand, ${opts.size}x${opts.size} each, as the policy sees them)`);
  } finally {
    runner.close();
  }
}
