// `riptide recap <stage>` (--config <yaml> [key=value ...]): RECAP's sub-stages one at a time under output_dir
// (rollouts, value_pretrain, value, advantages, policy: one round by hand), and `recap run`, the whole loop with
// --resume and --stop-after. Log lines on stdout, progress bars on stderr, as `riptide sft`.
import { existsSync } from 'node:fs';
import path from 'node:path';

import { computeAdvantages } from '../algo/recap/advantage.ts';
import { collectRollouts } from '../algo/recap/collect.ts';
import { newestCheckpoint, type RecapContext } from '../algo/recap/context.ts';
import { finetunePolicy } from '../algo/recap/finetune.ts';
import { RECAP_STATE_FILE, recapSummary, runRecap, startPolicy, stateEvals } from '../algo/recap/loop.ts';
import { trainValue, type ValueStage } from '../algo/recap/value.ts';
import { checkRecapConfig, loadRecapConfig } from '../config/recap-config.ts';
import { RiptideError } from '../errors.ts';
import { consoleHooks } from './train.ts';

export interface RecapCliOptions {
  config?: string;
  overrides: string[];
}

/** Loads and checks the config; `fn` runs with the console hooks, the progress bar closed after it. */
async function withContext<T>(o: RecapCliOptions, fn: (ctx: RecapContext, dir: (name: string) => string) => Promise<T>): Promise<T> {
  const where = o.config ?? 'the command line';
  const config = loadRecapConfig(o.config, o.overrides);
  checkRecapConfig(config, where);
  const hooks = consoleHooks();
  try {
    return await fn({ config, where, hooks }, (name) => path.join(config.output_dir, name));
  } finally {
    hooks.endBar();
  }
}

/** Rollout folders given, else <output_dir>/rollouts when it exists. */
function rolloutsOr(given: string[] | undefined, dir: (name: string) => string): string[] {
  return given ?? (existsSync(dir('rollouts')) ? [dir('rollouts')] : []);
}

export async function recapCollect(o: RecapCliOptions & { policy?: string; out?: string; round: number }): Promise<void> {
  await withContext(o, async (ctx, dir) => {
    const policy = o.policy ? { checkpoint: newestCheckpoint(o.policy, 'policy') } : startPolicy(ctx.config);
    const r = await collectRollouts(ctx, { policy, out: o.out ?? dir('rollouts'), round: o.round });
    console.log(`wrote ${r.files.length} files in ${r.seconds.toFixed(0)} s`);
  });
}

export async function recapValue(o: RecapCliOptions & { stage: string; from?: string; rollouts?: string[]; out?: string }): Promise<void> {
  if (o.stage !== 'pretrain' && o.stage !== 'finetune') throw new RiptideError(`--stage ${o.stage}: must be pretrain or finetune`);
  const stage: ValueStage = o.stage;
  await withContext(o, async (ctx, dir) => {
    const demos = ctx.config.data.demos;
    const ck =
      stage === 'pretrain'
        ? await trainValue(ctx, { stage, data: demos, out: o.out ?? dir('value_pretrain') })
        : await trainValue(ctx, { stage, data: [...demos, ...rolloutsOr(o.rollouts, dir)], out: o.out ?? dir('value'), from: newestCheckpoint(o.from ?? dir('value_pretrain'), 'pretrained value') });
    console.log(`value checkpoint: ${ck}`);
  });
}

export async function recapAdvantage(o: RecapCliOptions & { value?: string; rollouts?: string[]; out?: string }): Promise<void> {
  await withContext(o, async (ctx, dir) => {
    const value = newestCheckpoint(o.value ?? (existsSync(dir('value')) ? dir('value') : dir('value_pretrain')), 'value');
    const out = o.out ?? dir('advantages');
    await computeAdvantages(ctx, { value, data: [...ctx.config.data.demos, ...rolloutsOr(o.rollouts, dir)], out });
    console.log(`advantages: ${out}`);
  });
}

export async function recapFinetune(o: RecapCliOptions & { advantages?: string; out?: string }): Promise<void> {
  await withContext(o, async (ctx, dir) => {
    const ck = await finetunePolicy(ctx, { advantages: o.advantages ?? dir('advantages'), out: o.out ?? dir('policy') });
    console.log(`policy checkpoint: ${ck}`);
  });
}

export async function recapRun(o: RecapCliOptions & { resume: boolean; stopAfter?: string }): Promise<void> {
  await withContext(o, async (ctx) => {
    const dir = path.resolve(ctx.config.output_dir);
    const onSigint = () => {
      console.error(`\nriptide: interrupted; finished sub-stages are recorded in ${path.join(dir, RECAP_STATE_FILE)}: continue with --resume`);
      process.exit(130);
    };
    process.once('SIGINT', onSigint);
    const t0 = performance.now();
    try {
      const state = await runRecap(ctx, { resume: o.resume, stopAfter: o.stopAfter });
      const evals = stateEvals(state);
      if (evals.length > 0) console.log(`\nsuccess on held-out init states:\n${recapSummary(evals)}`);
      console.log(`done in ${((performance.now() - t0) / 60000).toFixed(1)} min; state ${path.join(dir, RECAP_STATE_FILE)}, report ${path.join(dir, 'recap.html')}`);
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
}
