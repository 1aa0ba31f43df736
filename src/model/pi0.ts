// Pi0Policy: the one facade over the native PI0 model (cpp/pi0 via native().pi0). It owns the preset, checks batch
// sizes against it before they reach C++, saves/loads checkpoints, and runs one optimiser step over micro-batches.
import { native } from '../native.ts';
import { resolveDevice, type DeviceChoice } from './device.ts';
import { loadPi0Config, pi0Sizes, type Pi0Config, type Pi0Sizes } from './config.ts';
import { loadCheckpoint, readCheckpointConfig, saveCheckpoint, type LoadCheckpointOptions, type LoadedCheckpoint } from './checkpoint.ts';
import { ModelInputError } from './errors.ts';
import type { AdamWOptions, LossBatch, LossResult, NativePi0Model, ObsBatch, ParamEntry, SampleBatch } from './native-types.ts';
import type { NormStats } from './norm-stats.ts';
import type { SafetensorsWriteDtype } from './safetensors.ts';
import { loadWeights } from './weights.ts';

export interface Pi0CreateOptions {
  preset?: string; // 'tiny' | 'small' | 'pi0' or a path to a preset JSON
  config?: Pi0Config; // instead of preset
  seed?: number; // weight init seed, default 0
  path?: 'fast' | 'reference'; // native code path, default 'fast'
  threads?: number;
  device?: DeviceChoice; // default 'cpu' (src/model/device.ts)
}

export interface SaveExtra {
  normStats?: NormStats | null;
  trainerState?: unknown;
  dtype?: SafetensorsWriteDtype; // weights dtype; default F32
  optimizer?: boolean; // include Adam state, default true
  ema?: Float32Array | null; // an exponential moving average of the weights, saved as ema.safetensors
}

export interface TrainStepResult {
  loss: number; // mean over micro-batches
  losses: number[]; // per micro-batch
  gradNorm: number; // before clipping, after gradScale
  step: number; // optimizer steps taken after this one
}

/** True when the addon is built and has the PI0 model (tests skip themselves otherwise). */
export function hasNativePi0(): boolean {
  try {
    return typeof native().pi0?.Pi0Model === 'function';
  } catch {
    return false;
  }
}

type Sized = { length: number } | undefined;

export function expectLen(field: string, a: Sized, want: number, what: string, required: boolean): void {
  if (a === undefined) {
    if (required) throw new ModelInputError(field, 'is missing', `pass ${what} (${want} values).`);
    return;
  }
  if (a.length !== want) throw new ModelInputError(field, `has ${a.length} values, expected ${want} = ${what}`, 'size the buffer from the model preset (pi0Sizes).');
}

/** Check the observation fields of a batch against a preset; `kind` prefixes the field in errors. */
export function validateObsBatch(kind: string, b: ObsBatch, c: Pi0Config): void {
  const B = b.batch;
  if (!Number.isInteger(B) || B < 1) throw new ModelInputError(`${kind}.batch`, `is ${B}`, 'pass a positive integer batch size.');
  const S = c.image_size;
  expectLen(`${kind}.images`, b.images, B * c.num_cameras * S * S * 3, `B*C*S*S*3 (${B}*${c.num_cameras}*${S}*${S}*3)`, true);
  expectLen(`${kind}.imageMask`, b.imageMask, B * c.num_cameras, `B*C (${B}*${c.num_cameras})`, true);
  expectLen(`${kind}.tokens`, b.tokens, B * c.max_token_len, `B*L (${B}*${c.max_token_len})`, true);
  expectLen(`${kind}.tokenMask`, b.tokenMask, B * c.max_token_len, `B*L (${B}*${c.max_token_len})`, true);
  expectLen(`${kind}.state`, b.state, B * c.state_dim, `B*D (${B}*${c.state_dim})`, true);
  const V = c.llm.vocab_size;
  for (let i = 0; i < b.tokens.length; i++) {
    const t = b.tokens[i];
    if (t < 0 || t >= V) {
      throw new ModelInputError(`${kind}.tokens[${i}]`, `is ${t}, outside the model's vocab [0, ${V})`, `tokenize with a vocab of at most ${V} ids (WordTokenizer { vocabLimit: ${V} }).`);
    }
  }
}

/** Check a LossBatch against a preset; throws a ModelInputError naming the field. */
export function validateLossBatch(b: LossBatch, c: Pi0Config): void {
  validateObsBatch('LossBatch', b, c);
  const { batch: B } = b;
  const HA = c.action_horizon * c.action_dim;
  expectLen('LossBatch.actions', b.actions, B * HA, `B*H*A (${B}*${c.action_horizon}*${c.action_dim})`, true);
  expectLen('LossBatch.actionIsPad', b.actionIsPad, B * c.action_horizon, 'B*H', false);
  expectLen('LossBatch.actionDimMask', b.actionDimMask, c.action_dim, 'A', false);
  expectLen('LossBatch.noise', b.noise, B * HA, 'B*H*A', false);
  expectLen('LossBatch.time', b.time, B, 'B', false);
  expectLen('LossBatch.isPositive', b.isPositive, B, 'B', false);
  expectLen('LossBatch.weights', b.weights, B, 'B', false);
  if (b.uncondWeight !== undefined && !(b.uncondWeight >= 0)) {
    throw new ModelInputError('LossBatch.uncondWeight', `is ${b.uncondWeight}`, 'pass alpha >= 0 (0 = no unconditional branch).');
  }
}

/** Check a SampleBatch against a preset; throws a ModelInputError naming the field. */
export function validateSampleBatch(b: SampleBatch, c: Pi0Config): void {
  validateObsBatch('SampleBatch', b, c);
  expectLen('SampleBatch.noise', b.noise, b.batch * c.action_horizon * c.action_dim, 'B*H*A', true);
  if (b.numSteps !== undefined && !(Number.isInteger(b.numSteps) && b.numSteps >= 1)) {
    throw new ModelInputError('SampleBatch.numSteps', `is ${b.numSteps}`, 'pass a positive integer (PI0 uses 10).');
  }
}

export class Pi0Policy {
  readonly config: Pi0Config;
  readonly sizes: Pi0Sizes;
  readonly spec: readonly ParamEntry[];
  /** Stats the policy was trained with; saved with the checkpoint. */
  normStats: NormStats | null = null;
  private readonly model: NativePi0Model;

  private constructor(config: Pi0Config, model: NativePi0Model) {
    this.config = config;
    this.sizes = pi0Sizes(config);
    this.model = model;
    this.spec = model.paramSpec();
  }

  static create(opts: Pi0CreateOptions): Pi0Policy {
    if (!opts.config && !opts.preset) throw new ModelInputError('Pi0Policy.create', 'needs a preset or a config', "pass { preset: 'tiny' | 'small' | 'pi0' | <path> } or { config }.");
    const config = opts.config ?? loadPi0Config(opts.preset!);
    const pi0 = native().pi0;
    if (typeof pi0?.Pi0Model !== 'function') {
      throw new ModelInputError('native().pi0.Pi0Model', 'is not in this build of the addon', "rebuild the addon with the model (npm run build:native) after pulling cpp/pi0.");
    }
    const model = new pi0.Pi0Model(JSON.stringify(config), opts.seed ?? 0, { path: opts.path ?? 'fast', device: resolveDevice(opts.device ?? 'cpu') });
    if (opts.threads !== undefined) model.setThreads(opts.threads);
    return new Pi0Policy(config, model);
  }

  /** Wrap a native model created elsewhere (a worker that owns it, or a test double); `config` must be its preset. */
  static fromModel(config: Pi0Config, model: NativePi0Model): Pi0Policy {
    return new Pi0Policy(config, model);
  }

  /** A model shaped like the checkpoint's preset, with its weights (and Adam state when present) loaded. */
  static fromCheckpoint(dir: string, opts: Omit<Pi0CreateOptions, 'preset' | 'config'> & LoadCheckpointOptions = {}): { policy: Pi0Policy; checkpoint: LoadedCheckpoint } {
    const policy = Pi0Policy.create({ ...opts, config: readCheckpointConfig(dir) });
    const checkpoint = policy.load(dir, opts);
    return { policy, checkpoint };
  }

  get paramCount(): number {
    return this.model.params().length;
  }

  get step(): number {
    return this.model.step();
  }

  /** Where the model runs. */
  get device(): 'cpu' | 'cuda' {
    return this.model.device();
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
      spec: this.spec,
      params: this.model.params(),
      optimizer: withOptimizer ? { m: this.model.adamM(), v: this.model.adamV(), step: this.model.step() } : null,
      normStats: extra.normStats ?? this.normStats,
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
        spec: this.spec,
        params: this.model.params(),
        adamM: loadOptimizer ? this.model.adamM() : undefined,
        adamV: loadOptimizer ? this.model.adamV() : undefined,
      },
      opts,
    );
    if (ck.step !== null) this.model.setStep(ck.step);
    if (ck.normStats) this.normStats = ck.normStats;
    return ck;
  }

  /**
   * Load bare weights (e.g. a lerobot/openpi model.safetensors, whose folder has no riptide config.json) into this
   * model by name. Returns warnings about ignored or defaulted tensors.
   */
  loadWeights(file: string): string[] {
    return loadWeights(file, this.spec, this.model.params()).warnings;
  }

  loss(batch: LossBatch): LossResult {
    validateLossBatch(batch, this.config);
    return this.model.loss(batch);
  }

  /** B*H*A normalised actions (unnormalise with norm-stats.ts unnormalizeInto). */
  sampleActions(batch: SampleBatch): Float32Array {
    validateSampleBatch(batch, this.config);
    return this.model.sample(batch);
  }

  /** One optimiser step over gradient-accumulated micro-batches: zeroGrad, loss+backward each, AdamW with 1/n. */
  trainStep(batches: readonly LossBatch[], adamw: AdamWOptions, onLoss?: (r: LossResult) => void): TrainStepResult {
    if (batches.length === 0) throw new ModelInputError('trainStep.batches', 'is empty', 'pass at least one LossBatch.');
    for (const b of batches) validateLossBatch(b, this.config);
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
