// RECAP's policy fine-tune: `riptide sft` from the SFT checkpoint (never a previous round's) on the demos and every
// rollout set that has advantages, where a window is positive iff its frame's advantage is above epsilon. The
// learner trains a non-positive window on the unconditional indicator only, and a share of the positive ones too
// (finetune.indicator_dropout), so that evaluation can guide with cfg_scale > 1.
import path from 'node:path';

import { SftConfigSchema } from '../../config/sft-config.ts';
import { SftTrainer } from '../sft-trainer.ts';
import { listCheckpoints } from '../ript-trainer.ts';
import { positiveFlags, readAdvantageIndex } from './advantage.ts';
import type { RecapContext } from './context.ts';

/** Fine-tunes the policy on the datasets of the advantage folder `advantages`; returns the last checkpoint. */
export async function finetunePolicy(ctx: RecapContext, o: { advantages: string; out: string }): Promise<string> {
  const c = ctx.config;
  const index = readAdvantageIndex(o.advantages);
  const sft = SftConfigSchema.parse({
    seed: c.seed,
    output_dir: o.out,
    policy: c.policy,
    data: { paths: index.datasets.map((d) => d.dataset), mode: c.data.mode },
    train: c.finetune,
    eval: { freq: 0 },
    runtime: c.runtime,
  });
  const trainer = new SftTrainer(sft, ctx.hooks, {
    positive: (data) => {
      const flags = positiveFlags(o.advantages, index, data);
      const steps = flags.reduce((n, f) => n + f.length, 0);
      const positive = flags.reduce((n, f) => n + f.reduce((a, b) => a + b, 0), 0);
      ctx.hooks.log(
        `policy fine-tune: ${(100 * positive / steps).toFixed(1)}% of ${steps} steps positive (A > epsilon = ${index.threshold.toFixed(4)}); ` +
          `indicator dropout ${c.finetune.indicator_dropout} on them`,
      );
      return flags;
    },
  });
  try {
    await trainer.open();
    await trainer.run();
  } finally {
    trainer.close();
  }
  return listCheckpoints(path.resolve(o.out)).at(-1)!.dir;
}
