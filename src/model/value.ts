// ValueModel: the facade over the native value model (cpp/pi0/value.h via native().pi0.ValueModel), a distributional
// V(o, prompt) for RECAP (rl-anchors.md A.2-A.3). It reuses PI0's vision + language stack at the preset's size; bin
// k of K stands for the normalised return -1 + k/(K-1), so bins cover [-1, 0].
// It owns the preset and the bins, checks batches before they reach C++, saves and loads checkpoints (config.json
// carries "value_bins", so PI0 and value checkpoints refuse each other), and starts from a PI0 checkpoint by name.
import { existsSync } from 'node:fs';
import path from 'node:path';

import { native } from '../native.ts';
import { resolveDevice, type DeviceChoice } from './device.ts';
import {
  CHECKPOINT_FILES,
  loadCheckpoint,
  readCheckpointConfig,
  readValueCheckpointConfig,
  saveCheckpoint,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
} from './checkpoint.ts';
import { loadPi0Config, type Pi0Config } from './config.ts';
import { ModelFileError, ModelInputError } from './errors.ts';
import type { AdamWOptions, NativeValueModel, ObsBatch, ParamEntry, ValueLossBatch, ValueLossResult } from './native-types.ts';
import { expectLen, validateObsBatch, type SaveExtra, type TrainStepResult } from './pi0.ts';
import { loadWeights } from './weights.ts';

/** OpenTau's bin count (rl-anchors.md A.2): 1/200-wide bins over [-1, 0]. */
export const DEFAULT_VALUE_BINS = 201;
/** Names of the tensors only the value model has; every other tensor is PI0's and loads from a PI0 checkpoint. */
export const VALUE_TENSOR_PREFIX = 'value.';

export interface ValueCreateOptions {
  preset?: string; // 'tiny' | 'small' | 'pi0' or a path to a preset JSON (the action-expert fields are unused)
  config?: Pi0Config; // instead of preset
  bins?: number; // K, default 201
  seed?: number; // weight init seed, default 0
  path?: 'fast' | 'reference'; // native code path, default 'fast'
  threads?: number;
  device?: DeviceChoice; // default 'cpu' (src/model/device.ts)
}

export interface ValuePrediction {
  logits: Float32Array; // B*K
  values: Float32Array; // B expected values softmax(logits) . bin values, in [-1, 0]
}

export interface InitFromPi0Result {
  loaded: string[]; // tensors copied from the PI0 checkpoint (the vision tower, projector, embeddings, LLM)
  initialised: string[]; // the value.* tensors, left at their fresh init
  warnings: string[]; // e.g. the PI0 action-expert tensors the value model does not use
}

/** The normalised return bin k stands for: -1 + k/(K-1). */
export function valueBinCentre(k: number, bins: number): number {
  return -1 + k / (bins - 1);
}

/** The target bin of a normalised return r in [-1, 0]: round((r + 1) * (K - 1)). */
export function returnToBin(r: number, bins: number): number {
  if (!(r >= -1 && r <= 0)) {
    throw new ModelInputError('returnToBin(r)', `is ${r}, outside [-1, 0]`, 'normalise returns into [-1, 0]: reward_normalizer must exceed the longest episode plus |C_fail| (rl-anchors.md A.2).');
  }
  return Math.round((r + 1) * (bins - 1));
}

/** Expected value per sample from B*K logits: softmax(logits_b) . bin values. */
export function expectedValues(logits: Float32Array, bins: number): Float32Array {
  const B = logits.length / bins;
  const out = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    const row = logits.subarray(b * bins, (b + 1) * bins);
    let mx = -Infinity;
    for (const z of row) mx = Math.max(mx, z);
    let sum = 0;
    let e = 0;
    for (let k = 0; k < bins; k++) {
      const p = Math.exp(row[k] - mx);
      sum += p;
      e += p * valueBinCentre(k, bins);
    }
    out[b] = e / sum;
  }
  return out;
}

/** Check a ValueLossBatch against a preset and bin count; throws a ModelInputError naming the field. */
export function validateValueLossBatch(b: ValueLossBatch, c: Pi0Config, bins: number): void {
  validateObsBatch('ValueLossBatch', b, c);
  const B = b.batch;
  expectLen('ValueLossBatch.targetBin', b.targetBin, B, 'B', true);
  for (let i = 0; i < B; i++) {
    const k = b.targetBin[i];
    if (k < 0 || k >= bins) {
      throw new ModelInputError(`ValueLossBatch.targetBin[${i}]`, `is ${k}, outside [0, ${bins})`, `map normalised returns r in [-1, 0] to bins with returnToBin(r, ${bins}).`);
    }
  }
  expectLen('ValueLossBatch.weights', b.weights, B, 'B', false);
  if (b.weights) {
    const bad = b.weights.findIndex((w) => !(w >= 0) || !Number.isFinite(w));
    if (bad >= 0) throw new ModelInputError(`ValueLossBatch.weights[${bad}]`, `is ${b.weights[bad]}`, 'pass finite weights >= 0.');
    if (!b.weights.some((w) => w > 0)) throw new ModelInputError('ValueLossBatch.weights', 'are all 0', 'give at least one sample a positive weight.');
  }
  const mse = b.mseWeight ?? 0;
  if (!(mse >= 0)) throw new ModelInputError('ValueLossBatch.mseWeight', `is ${b.mseWeight}`, 'pass a weight >= 0 (0 = cross-entropy only).');
  expectLen('ValueLossBatch.targetValue', b.targetValue, B, 'B (needed when mseWeight > 0)', mse > 0);
}

export class ValueModel {
  readonly config: Pi0Config;
  readonly bins: number;
  readonly spec: readonly ParamEntry[];
  private readonly model: NativeValueModel;

  private constructor(config: Pi0Config, model: NativeValueModel) {
    this.config = config;
    this.model = model;
    this.bins = model.bins();
    this.spec = model.paramSpec();
  }

  static create(opts: ValueCreateOptions): ValueModel {
    if (!opts.config && !opts.preset) throw new ModelInputError('ValueModel.create', 'needs a preset or a config', "pass { preset: 'tiny' | 'small' | 'pi0' | <path> } or { config }.");
    const bins = opts.bins ?? DEFAULT_VALUE_BINS;
    if (!Number.isInteger(bins) || bins < 2) throw new ModelInputError('ValueModel.create.bins', `is ${bins}`, `pass an integer >= 2 (OpenTau uses ${DEFAULT_VALUE_BINS}).`);
    const config = opts.config ?? loadPi0Config(opts.preset!);
    const pi0 = native().pi0;
    if (typeof pi0?.ValueModel !== 'function') {
      throw new ModelInputError('native().pi0.ValueModel', 'is not in this build of the addon', 'rebuild the addon (npm run build:native) after pulling cpp/pi0/value.cc.');
    }
    const model = new pi0.ValueModel(JSON.stringify(config), opts.seed ?? 0, {
      bins,
      path: opts.path ?? 'fast',
      threads: opts.threads,
      device: resolveDevice(opts.device ?? 'cpu'),
    });
    return new ValueModel(config, model);
  }

  /** A model shaped like the value checkpoint's preset and bins, with its weights (and Adam state) loaded. */
  static fromCheckpoint(dir: string, opts: Omit<ValueCreateOptions, 'preset' | 'config' | 'bins'> & LoadCheckpointOptions = {}): { model: ValueModel; checkpoint: LoadedCheckpoint } {
    const { config, bins } = readValueCheckpointConfig(dir);
    const model = ValueModel.create({ ...opts, config, bins });
    const checkpoint = model.load(dir, opts);
    return { model, checkpoint };
  }

  get paramCount(): number {
    return this.model.params().length;
  }

  get step(): number {
    return this.model.step();
  }

  /** Live fp32 views into the native slabs. */
  params(): Float32Array {
    return this.model.params();
  }

  grads(): Float32Array {
    return this.model.grads();
  }

  setThreads(n: number): void {
    this.model.setThreads(n);
  }

  save(dir: string, extra: SaveExtra = {}): void {
    const withOptimizer = extra.optimizer ?? true;
    saveCheckpoint(dir, {
      config: this.config,
      valueBins: this.bins,
      spec: this.spec,
      params: this.model.params(),
      optimizer: withOptimizer ? { m: this.model.adamM(), v: this.model.adamV(), step: this.model.step() } : null,
      normStats: extra.normStats,
      trainerState: extra.trainerState,
      dtype: extra.dtype,
      ema: extra.ema,
    });
  }

  load(dir: string, opts: LoadCheckpointOptions = {}): LoadedCheckpoint {
    const loadOptimizer = opts.optimizer !== 'skip';
    const ck = loadCheckpoint(
      dir,
      {
        config: this.config,
        valueBins: this.bins,
        spec: this.spec,
        params: this.model.params(),
        adamM: loadOptimizer ? this.model.adamM() : undefined,
        adamV: loadOptimizer ? this.model.adamV() : undefined,
      },
      opts,
    );
    if (ck.step !== null) this.model.setStep(ck.step);
    return ck;
  }

  /**
   * Copy the vision tower, projector, embeddings and language model from a PI0 policy checkpoint folder by name;
   * the value.* tensors keep their init and the optimizer state is untouched. Throws, before copying anything, when a
   * shared tensor is missing or shaped differently (a PI0 checkpoint of another vision/LLM size).
   */
  initFromPi0(dir: string): InitFromPi0Result {
    const abs = path.resolve(dir);
    readCheckpointConfig(abs); // a PI0 checkpoint, not a value one
    const file = path.join(abs, CHECKPOINT_FILES.model);
    if (!existsSync(file)) throw new ModelFileError(file, undefined, 'missing from the checkpoint folder', 'pass a PI0 checkpoint folder that holds model.safetensors.');
    const shared = this.spec.filter((e) => !e.name.startsWith(VALUE_TENSOR_PREFIX));
    const { warnings } = loadWeights(file, shared, this.model.params());
    return {
      loaded: shared.map((e) => e.name),
      initialised: this.spec.filter((e) => e.name.startsWith(VALUE_TENSOR_PREFIX)).map((e) => e.name),
      warnings,
    };
  }

  loss(batch: ValueLossBatch): ValueLossResult {
    validateValueLossBatch(batch, this.config, this.bins);
    return this.model.loss(batch);
  }

  /** Logits and expected values; no gradients. */
  predict(batch: ObsBatch): ValuePrediction {
    validateObsBatch('ObsBatch', batch, this.config);
    const logits = this.model.predict(batch);
    return { logits, values: expectedValues(logits, this.bins) };
  }

  /** One optimiser step over gradient-accumulated micro-batches: zeroGrad, loss+backward each, AdamW with 1/n. */
  trainStep(batches: readonly ValueLossBatch[], adamw: AdamWOptions, onLoss?: (r: ValueLossResult) => void): TrainStepResult {
    if (batches.length === 0) throw new ModelInputError('trainStep.batches', 'is empty', 'pass at least one ValueLossBatch.');
    for (const b of batches) validateValueLossBatch(b, this.config, this.bins);
    this.model.zeroGrad();
    const losses = batches.map((b) => {
      const r = this.model.loss({ ...b, backward: true });
      onLoss?.(r);
      return r.loss;
    });
    const { gradNorm } = this.model.optimizerStep({ ...adamw, gradScale: (adamw.gradScale ?? 1) / batches.length });
    return { loss: losses.reduce((a, b) => a + b, 0) / losses.length, losses, gradNorm, step: this.model.step() };
  }
}
