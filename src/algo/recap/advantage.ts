// RECAP's advantages (rl-anchors.md A.4): V(o_t) for every frame of every dataset from a value checkpoint (batched),
// A_t = r(t..t+N) + V(t+N) - V(t) per episode (returns.ts), and the threshold epsilon = a percentile of all of them,
// so that about (100 - percentile)% of the frames are positive. Written atomically into one folder:
//   advantages.json                   the index: value checkpoint, spec, epsilon, percentiles, V's spread, datasets
//   <NN>_<dataset>.advantages.json    per dataset: per demo key, success, V and A per usable frame
// The policy fine-tune reads them back as per-window positive flags (A_t > epsilon), refusing a dataset that changed.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { returnSpec } from '../../config/recap-config.ts';
import { DemoDataset } from '../../data/dataset.ts';
import { RiptideError } from '../../errors.ts';
import { writeFileAtomic } from '../../fs-atomic.ts';
import { ValueModel } from '../../model/value.ts';
import type { RecapContext } from './context.ts';
import { episodeAdvantages, percentile, percentileTable } from './returns.ts';
import { FrameInputs, trainedReturnSpec, valueTargets } from './value.ts';

export const ADVANTAGES_FORMAT = 'riptide.recap.advantages.v1';
export const ADVANTAGE_INDEX = 'advantages.json';

const Spec = z.object({ c_neg: z.number(), normalizer: z.number(), bins: z.number(), look_ahead: z.number() });

const IndexSchema = z.object({
  format: z.literal(ADVANTAGES_FORMAT),
  value_checkpoint: z.string(),
  spec: Spec,
  percentile: z.number(),
  threshold: z.number(),
  frames: z.number(),
  positive_share: z.number(),
  value_std: z.number(),
  percentiles: z.array(z.object({ p: z.number(), value: z.number() })),
  datasets: z.array(z.object({ dataset: z.string(), file: z.string() })),
});

const FileSchema = z.object({
  format: z.literal(ADVANTAGES_FORMAT),
  dataset: z.string(),
  value_checkpoint: z.string(),
  spec: Spec,
  demos: z.record(z.string(), z.object({ success: z.boolean(), values: z.array(z.number()), advantages: z.array(z.number()) })),
});

export type AdvantageIndex = z.infer<typeof IndexSchema>;
export type AdvantageFile = z.infer<typeof FileSchema>;

function readJson<T>(file: string, schema: z.ZodType<T>, fix: string): T {
  if (!existsSync(file)) throw new RiptideError(`${file}: not found; ${fix}`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RiptideError(`${file}: not valid JSON (${(e as Error).message}); ${fix}`);
  }
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new RiptideError(`${file}: field '${i.path.join('.') || '(top level)'}' ${i.message}; ${fix}`);
}

const RERUN = 'run `riptide recap advantage` again';

export function readAdvantageIndex(dir: string): AdvantageIndex {
  return readJson(path.join(dir, ADVANTAGE_INDEX), IndexSchema, RERUN);
}

/** Mean and standard deviation over every number of several arrays. */
function spread(xs: readonly ArrayLike<number>[]): { mean: number; std: number; n: number } {
  let n = 0;
  let sum = 0;
  let sq = 0;
  for (const a of xs) {
    for (let i = 0; i < a.length; i++) {
      n++;
      sum += a[i];
      sq += a[i] * a[i];
    }
  }
  const mean = sum / Math.max(1, n);
  return { mean, std: Math.sqrt(Math.max(0, sq / Math.max(1, n) - mean * mean)), n };
}

/**
 * V and A for every frame of `data` (files or folders) with the value checkpoint `value`, written into `out`;
 * prints the percentiles, epsilon and the spread of V (warning when it barely varies). Returns the index.
 */
export async function computeAdvantages(ctx: RecapContext, o: { value: string; data: string[]; out: string }): Promise<AdvantageIndex> {
  const c = ctx.config;
  const { model, checkpoint } = ValueModel.fromCheckpoint(o.value, { threads: c.runtime.threads ?? undefined, device: c.runtime.device, optimizer: 'skip' });
  if (model.bins !== c.value.bins) throw new RiptideError(`${ctx.where}: value.bins is ${c.value.bins} but the value checkpoint ${o.value} has ${model.bins} bins; set value.bins=${model.bins}`);
  const spec = returnSpec(c);
  const trained = trainedReturnSpec(checkpoint.trainerState);
  if (trained && (trained.cNeg !== spec.cNeg || trained.normalizer !== spec.normalizer)) {
    throw new RiptideError(
      `${ctx.where}: value.c_neg ${spec.cNeg} and value.normalizer ${spec.normalizer} differ from those the value checkpoint ${o.value} was trained with ` +
        `(${trained.cNeg}, ${trained.normalizer}), and V must be in the unit of the n-step rewards: set value.c_neg=${trained.cNeg} value.normalizer=${trained.normalizer}, or train the value model again`,
    );
  }
  const data = await DemoDataset.open(o.data, { mode: 'pad', horizon: 1, shuffle: false });
  try {
    valueTargets(data, spec, ctx.where); // the same spec check as training
    const values = data.demos.map((d) => new Float32Array(d.steps));
    const B = c.advantage.batch_size;
    const inputs = new FrameInputs(model.config, B, data, checkpoint.normStats ?? data.normStats());
    const alloc = data.allocBatch(B);
    let done = 0;
    for (const refs of data.batches(0, B)) {
      const n = refs.length / 2;
      inputs.fill(data.readBatch(refs, alloc), n);
      const v = model.predict(inputs.rows(0, n)).values;
      for (let b = 0; b < n; b++) values[refs[2 * b]][refs[2 * b + 1]] = v[b];
      done += n;
      ctx.hooks.progress?.('values', done, data.size);
    }
    const N = c.advantage.look_ahead;
    const advantages = data.demos.map((d, i) => episodeAdvantages(values[i], d.success, N, spec));
    const all = Float64Array.from(advantages.flatMap((a) => Array.from(a))).sort();
    const threshold = percentile(all, c.advantage.percentile);
    const v = spread(values);
    const positive = all.filter((a) => a > threshold).length / all.length;

    const out = path.resolve(o.out);
    mkdirSync(out, { recursive: true });
    const header = { format: ADVANTAGES_FORMAT, value_checkpoint: path.resolve(o.value), spec: { c_neg: spec.cNeg, normalizer: spec.normalizer, bins: spec.bins, look_ahead: N } } as const;
    const datasets = data.files.map((f, fi) => {
      const name = `${String(fi).padStart(2, '0')}_${path.basename(f.file, '.hdf5')}.advantages.json`;
      const demos = Object.fromEntries(
        data.demos.flatMap((d, i) => (d.file === fi ? [[d.demo.key, { success: d.success, values: Array.from(values[i]), advantages: Array.from(advantages[i]) }]] : [])),
      );
      const file: AdvantageFile = { ...header, dataset: path.resolve(f.file), demos };
      writeFileAtomic(path.join(out, name), `${JSON.stringify(file)}\n`);
      return { dataset: file.dataset, file: name };
    });
    const index: AdvantageIndex = {
      ...header,
      percentile: c.advantage.percentile,
      threshold,
      frames: all.length,
      positive_share: positive,
      value_std: v.std,
      percentiles: percentileTable(all),
      datasets,
    };
    writeFileAtomic(path.join(out, ADVANTAGE_INDEX), `${JSON.stringify(index, null, 1)}\n`);

    const log = ctx.hooks.log;
    log(`advantages of ${all.length} frames (N = ${N}) with ${o.value}:`);
    log(`  percentile ${index.percentiles.map((r) => String(r.p).padStart(7)).join('')}`);
    log(`  A         ${index.percentiles.map((r) => r.value.toFixed(3).padStart(7)).join('')}`);
    log(`epsilon = ${threshold.toFixed(4)} (the ${c.advantage.percentile}th percentile): ${(100 * positive).toFixed(1)}% of frames positive`);
    log(`V over frames: mean ${v.mean.toFixed(4)}, std ${v.std.toFixed(4)}`);
    if (v.std < c.advantage.min_value_std) {
      log(
        `warning: V barely varies (std ${v.std.toExponential(2)} < advantage.min_value_std ${c.advantage.min_value_std}): the value head may have collapsed to a ` +
          'constant (OpenTau once shipped one), and the advantages then only rank the n-step rewards. Train the value model longer or check its targets.',
      );
    }
    return index;
  } finally {
    data.close();
  }
}

/**
 * Per demo of `data`, one flag per usable step: 1 where A_t > epsilon. Every demo must have advantages in the index's
 * files, with as many frames as it has usable steps (a changed dataset is refused, not silently zero as OpenTau).
 */
export function positiveFlags(dir: string, index: AdvantageIndex, data: DemoDataset): Uint8Array[] {
  const byDataset = new Map(index.datasets.map((d) => [d.dataset, path.join(dir, d.file)]));
  const files = new Map<string, AdvantageFile>();
  return data.demos.map((d) => {
    const dataset = path.resolve(d.demo.file);
    const file = byDataset.get(dataset);
    if (!file) throw new RiptideError(`${path.join(dir, ADVANTAGE_INDEX)}: has no advantages for ${dataset}; ${RERUN} over every dataset you train on`);
    if (!files.has(file)) files.set(file, readJson(file, FileSchema, RERUN));
    const a = files.get(file)!.demos[d.demo.key]?.advantages;
    if (!a) throw new RiptideError(`${file}: has no advantages for data/${d.demo.key} of ${dataset}; the dataset changed since: ${RERUN}`);
    if (a.length !== d.steps) {
      throw new RiptideError(`${file}: data/${d.demo.key} has ${a.length} advantages but ${d.steps} usable steps in ${dataset}; the dataset changed since: ${RERUN}`);
    }
    return Uint8Array.from(a, (x) => (x > index.threshold ? 1 : 0));
  });
}
