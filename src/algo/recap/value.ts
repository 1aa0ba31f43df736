// RECAP's value model training (rl-anchors.md A.2-A.3): every frame of every episode, demos and rollouts, is a
// sample whose target is its normalised Monte-Carlo return (returns.ts), binned with returnToBin; the loss is
// cross-entropy over the bins plus an optional MSE on the expected value. 'pretrain' starts a fresh ValueModel
// (optionally with the SFT policy's vision + language) on the demos; 'finetune' continues the pretrained checkpoint
// on demos + every rollout set so far. Checkpoints, metrics.json and log lines follow `riptide sft`.
import path from 'node:path';

import { returnSpec } from '../../config/recap-config.ts';
import { DemoDataset, type DemoBatch } from '../../data/dataset.ts';
import { POLICY_STATE_DIM } from '../../data/libero-hdf5.ts';
import { RiptideError } from '../../errors.ts';
import type { Pi0Config } from '../../model/config.ts';
import type { ObsBatch, ValueLossBatch } from '../../model/native-types.ts';
import type { NormStats } from '../../model/norm-stats.ts';
import { warmupCosine } from '../../model/schedule.ts';
import { returnToBin, ValueModel } from '../../model/value.ts';
import { appendMetrics, writeRunInfo } from '../../report/metrics.ts';
import { PolicyInputs } from '../../runtime/policy-io.ts';
import { mixSeed } from '../cfg-flow.ts';
import { listCheckpoints } from '../ript-trainer.ts';
import type { RecapContext } from './context.ts';
import { checkReturnSpec, episodeReturns, type ReturnSpec } from './returns.ts';

export const VALUE_STATE_FORMAT = 'riptide.recap.value.v1';

export type ValueStage = 'pretrain' | 'finetune';

/**
 * The value target of every usable frame of every demo of `data` (normalised returns, per demo), after checking
 * that the longest episode keeps them inside the bins; `where` names the config in the error.
 */
export function valueTargets(data: DemoDataset, spec: ReturnSpec, where: string): Float64Array[] {
  const longest = Math.max(...data.demos.map((d) => d.steps));
  checkReturnSpec(spec, longest, `${where} (longest episode in the data: ${longest} steps)`, 'value.');
  return data.demos.map((d) => episodeReturns(d.steps, d.success, spec));
}

/** The return spec a value checkpoint was trained with (from its trainer_state.json); null when saved elsewhere. */
export function trainedReturnSpec(trainerState: unknown): ReturnSpec | null {
  const s = trainerState as { format?: unknown; spec?: ReturnSpec } | null;
  return s?.format === VALUE_STATE_FORMAT && s.spec ? s.spec : null;
}

/** Value-model inputs for up to `max` frames of a dataset: rows filled from a DemoBatch, read back as ObsBatch views. */
export class FrameInputs {
  readonly #inputs: PolicyInputs;
  readonly #task: Map<string, number>;

  constructor(config: Pi0Config, max: number, data: DemoDataset, norm: NormStats) {
    const prompts = [...new Set(data.demos.map((d) => d.prompt))];
    this.#task = new Map(prompts.map((p, i) => [p, i]));
    this.#inputs = new PolicyInputs(config, max, { width: data.width, height: data.height }, prompts, norm);
  }

  /** Fills rows 0..B-1 from the first B samples of `batch`. */
  fill(batch: DemoBatch, B: number): void {
    const frame = 2 * batch.height * batch.width * 3;
    for (let b = 0; b < B; b++) {
      const state = batch.state.subarray(b * POLICY_STATE_DIM, (b + 1) * POLICY_STATE_DIM);
      this.#inputs.setRow(b, this.#task.get(batch.prompts[b])!, state, batch.images.subarray(b * frame, (b + 1) * frame));
    }
  }

  /** Rows [from, to) (views, no copy). */
  rows(from: number, to: number): ObsBatch {
    const x = this.#inputs;
    const c = x.config;
    const per = (n: number) => [from * n, to * n] as const;
    return {
      batch: to - from,
      images: x.images.subarray(...per(c.num_cameras * c.image_size * c.image_size * 3)),
      imageMask: x.imageMask.subarray(...per(c.num_cameras)),
      tokens: x.tokens.subarray(...per(c.max_token_len)),
      tokenMask: x.tokenMask.subarray(...per(c.max_token_len)),
      state: x.state.subarray(...per(c.state_dim)),
    };
  }
}

/** The model a stage starts from, and the state norm stats it is trained with (saved with its checkpoints). */
function startModel(ctx: RecapContext, stage: ValueStage, from: string | undefined, data: DemoDataset): { model: ValueModel; norm: NormStats } {
  const c = ctx.config;
  const run = { threads: c.runtime.threads ?? undefined, device: c.runtime.device };
  if (stage === 'finetune') {
    if (!from) throw new RiptideError('value fine-tune: no pretrained value checkpoint to start from; run the pretrain stage first');
    const { model, checkpoint } = ValueModel.fromCheckpoint(from, run);
    if (model.bins !== c.value.bins) throw new RiptideError(`${ctx.where}: value.bins is ${c.value.bins} but the value checkpoint ${from} has ${model.bins} bins; set value.bins=${model.bins}`);
    ctx.hooks.log(`value model: ${model.config.name} preset from ${from}`);
    return { model, norm: checkpoint.normStats ?? data.normStats() };
  }
  const model = ValueModel.create({ preset: c.value.preset, bins: c.value.bins, seed: c.seed, ...run });
  const pi0 = c.policy.checkpoint;
  if (c.value.init_from_policy && pi0) {
    try {
      const r = model.initFromPi0(pi0);
      ctx.hooks.log(`value model: ${model.config.name} preset, vision + language (${r.loaded.length} tensors) from ${pi0}`);
    } catch (e) {
      if (!(e instanceof RiptideError)) throw e;
      throw new RiptideError(`${ctx.where}: value.init_from_policy: ${e.message}\nset value.preset to the policy's preset, or value.init_from_policy=false`);
    }
  } else {
    ctx.hooks.log(`value model: fresh ${model.config.name} preset`);
  }
  return { model, norm: data.normStats() };
}

/**
 * Trains the value model on every frame of `data` (files or folders) and saves `<out>/checkpoints/step_N`; returns
 * that folder. finetune starts from the value checkpoint `from`.
 */
export async function trainValue(ctx: RecapContext, o: { stage: ValueStage; data: string[]; out: string; from?: string }): Promise<string> {
  const c = ctx.config;
  const v = c.value;
  const out = path.resolve(o.out);
  if (listCheckpoints(out).length > 0) throw new RiptideError(`${out} already holds value checkpoints; pass --out <new folder>, or remove it to train again`);
  const steps = o.stage === 'pretrain' ? v.pretrain_steps : v.finetune_steps;
  const data = await DemoDataset.open(o.data, { mode: 'pad', horizon: 1, seed: mixSeed(c.seed, o.stage === 'pretrain' ? 1 : 2) });
  try {
    const spec = returnSpec(c);
    const returns = valueTargets(data, spec, ctx.where);
    const { model, norm } = startModel(ctx, o.stage, o.from, data);
    writeRunInfo(out, { command: `recap value --stage ${o.stage}`, config: c });
    const fails = data.demos.filter((d) => !d.success).length;
    ctx.hooks.log(`value ${o.stage}: ${data.size} frames of ${data.demos.length} episodes (${fails} failed) in ${data.files.length} files, ${steps} steps of ${v.batch_size}`);
    const B = v.batch_size;
    const alloc = data.allocBatch(B);
    const inputs = new FrameInputs(model.config, B, data, norm);
    const bin = new Int32Array(B);
    const target = new Float32Array(B);
    const stream = data.stream(B);
    let since = { loss: 0, l1: 0, grad: 0, n: 0, frames: 0, t0: performance.now() };
    for (let step = 1; step <= steps; step++) {
      const { refs, epoch } = stream.next().value;
      const n = refs.length / 2;
      const batch = data.readBatch(refs, alloc);
      inputs.fill(batch, n);
      for (let b = 0; b < n; b++) {
        target[b] = returns[refs[2 * b]][refs[2 * b + 1]];
        bin[b] = returnToBin(target[b], model.bins);
      }
      const micro: ValueLossBatch[] = [];
      for (let i = 0; i < n; i += v.micro_batch_size) {
        const j = Math.min(n, i + v.micro_batch_size);
        micro.push({ ...inputs.rows(i, j), targetBin: bin.subarray(i, j), targetValue: target.subarray(i, j), mseWeight: v.mse_weight });
      }
      const lr = warmupCosine(step - 1, { warmup: Math.min(v.warmup_steps, steps), total: steps, peak: v.lr, floor: v.lr * v.min_lr_ratio });
      let at = 0;
      const r = model.trainStep(micro, { lrModel: lr, lrHeader: lr, weightDecay: v.weight_decay, clipNorm: v.clip_grad_norm }, (res) => {
        for (const e of res.values) since.l1 += Math.abs(e - target[at++]);
      });
      since.loss += r.loss;
      since.grad += r.gradNorm;
      since.n++;
      since.frames += n;
      ctx.hooks.progress?.(`value ${o.stage}`, step, steps, `loss ${r.loss.toFixed(3)} epoch ${epoch}`);
      if (step % v.log_freq === 0 || step === steps) {
        const secs = (performance.now() - since.t0) / 1000;
        const rec = { step, value_loss: since.loss / since.n, value_l1: since.l1 / since.frames, grad_norm: since.grad / since.n, lr, epoch, samples_per_s: since.frames / secs };
        appendMetrics(out, 'train', rec);
        ctx.hooks.log(
          `value ${o.stage} step ${step}/${steps} | loss ${rec.value_loss.toFixed(4)} | |V-R| ${rec.value_l1.toFixed(4)} | grad ${rec.grad_norm.toFixed(3)} | lr ${lr.toExponential(1)} | epoch ${epoch} | ${rec.samples_per_s.toFixed(1)} frames/s`,
        );
        since = { loss: 0, l1: 0, grad: 0, n: 0, frames: 0, t0: performance.now() };
      }
    }
    const dir = path.join(out, 'checkpoints', `step_${String(steps).padStart(6, '0')}`);
    model.save(dir, { normStats: norm, trainerState: { format: VALUE_STATE_FORMAT, stage: o.stage, step: steps, data: o.data, from: o.from ?? null, spec } });
    return dir;
  } finally {
    data.close();
  }
}
