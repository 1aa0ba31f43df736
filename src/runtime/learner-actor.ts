// The learner actor: owns the trainable model, its AdamW state (and an optional EMA of the weights), turns episodes
// (RL) or demo windows (SFT) into training windows of the action horizon, runs the update, and publishes the new
// weights to the rollout actor through the board. The RL update is CFG-Flow (design note pi0-cfg-flow-in-ript): every
// window carries its episode's weight on the conditional (positive) branch, and an unconditional branch with weight
// alpha shares its noise and time. The plain supervised step (all weights 1, no unconditional branch) and SFT go
// through the same code.
import { sliceWindows } from '../algo/windows.ts';
import type { AdamWOptions, LossBatch } from '../model/native-types.ts';
import { normalizeInto, type NormStats } from '../model/norm-stats.ts';
import type { Pi0Policy } from '../model/pi0.ts';
import { Rng } from '../rng.ts';
import type { Episode } from './episode.ts';
import { ACTION_DIM, imageBytes, STATE_DIM, type RuntimeSettings } from './layouts.ts';
import { openPolicy, PolicyInputs } from './policy-io.ts';
import { WeightsBoard, type BoardDescriptor } from './weights-board.ts';

export interface LearnerSettings {
  /** AdamW learning rate (model and action head). */
  lr: number;
  /** Windows per micro-batch (gradients accumulate over micro-batches into one step). */
  microBatch: number;
  /** Seeds the flow-matching noise and time of each step. */
  seed: number;
  clipNorm: number;
  /** A checkpoint whose weights, Adam state and EMA the learner resumes from (the rollout actor gets them at publish). */
  resume?: string;
}

export const DEFAULT_LEARNER: LearnerSettings = { lr: 1e-4, microBatch: 16, seed: 0, clipNorm: 1 };

/** One update's recipe. Omitted fields fall back to the plain supervised step of LearnerSettings. */
export interface UpdatePlan {
  /** Per episode: the weight of its windows on the conditional branch (default 1). */
  weights?: number[];
  /** Unconditional-branch weight alpha (default 0: no branch). */
  uncondWeight?: number;
  /** A window starts every `stride` steps (a multiple of the episodes' frameStride); default executeSteps. */
  stride?: number;
  tail?: 'pad' | 'skip';
  /** Actions of each window in the loss, from its start (the rest are masked like padding); default all. */
  supervise?: number;
  microBatch?: number;
  /** Micro-batches per optimizer step; 0 = all windows in one step. */
  accumulation?: number;
  lrModel?: number;
  lrHeader?: number;
  weightDecay?: number;
  clipNorm?: number;
  /** EMA decay of the weights after each optimizer step (0 = no EMA). */
  emaDecay?: number;
  /** Seeds window order, noise and time. */
  seed?: number;
  /** Share of positive windows trained with the unconditional indicator (cfg index 0) instead of the positive one,
   *  so that inference can guide with cfg_scale > 1 (the pi*0.6 recipe); default 0. */
  indicatorDropout?: number;
}

export interface UpdateResult {
  /** Mean loss over micro-batches: mean(w * L_cond) + alpha * mean(L_uncond). */
  loss: number;
  /** Mean unweighted conditional and unconditional flow-matching losses over the windows. */
  lossCond: number;
  lossUncond: number | null;
  gradNorm: number;
  windows: number;
  optimizerSteps: number;
  step: number;
  /** The weights version published after the step. */
  version: number;
}

export interface LearnerSetup {
  settings: RuntimeSettings;
  learner: LearnerSettings;
  /** Where to publish weights; null when nothing samples from this learner (SFT saves checkpoints instead). */
  board: BoardDescriptor | null;
  languages: string[];
}

/** One training window: the observation at its start and the actions that follow. */
interface WindowRow {
  task: number;
  state: Float32Array;
  images: Uint8Array;
  /** valid x 7 raw actions. */
  actions: Float32Array;
  valid: number;
  /** Conditional-branch weight. */
  weight: number;
  /** false: the window trains the unconditional indicator only (RECAP's non-positive advantage); default true. */
  positive?: boolean;
}

type Progress = (done: number, total: number) => void;

export class LearnerActor {
  readonly policy: Pi0Policy;
  readonly #setup: LearnerSetup;
  readonly #board: WeightsBoard | null;
  #inputs!: PolicyInputs;
  #ema: Float32Array | null = null;

  constructor(setup: LearnerSetup) {
    this.#setup = setup;
    this.policy = openPolicy(setup.settings.policy);
    if (setup.learner.resume) this.#ema = this.policy.load(setup.learner.resume, { optimizer: 'required' }).ema;
    this.#board = setup.board ? WeightsBoard.attach(setup.board) : null;
    this.#inputs = this.#inputsFor(setup.learner.microBatch);
  }

  #inputsFor(batch: number): PolicyInputs {
    if (this.#inputs?.maxBatch >= batch) return this.#inputs;
    const s = this.#setup.settings;
    return new PolicyInputs(this.policy.config, batch, s.image, this.#setup.languages, this.policy.normStats);
  }

  /** Publishes the current weights; returns their version (0 without a board). */
  async publish(): Promise<number> {
    return this.#board ? this.#board.publish(this.policy.params()) : 0;
  }

  /** Normalisation stats for states and actions (SFT computes them from its data); saved with checkpoints. */
  setNormStats(stats: NormStats): void {
    this.policy.normStats = stats;
    this.#inputs = new PolicyInputs(this.policy.config, this.#inputs.maxBatch, this.#setup.settings.image, this.#setup.languages, stats);
  }

  /** Writes a checkpoint (weights, Adam state, EMA, norm stats, trainer state) atomically. */
  save(dir: string, trainerState: unknown): void {
    this.policy.save(dir, { trainerState, ema: this.#ema });
  }

  /** One update over every window of `episodes`, then publish; onProgress counts micro-batches done. */
  async update(episodes: Episode[], plan: UpdatePlan = {}, onProgress?: Progress): Promise<UpdateResult> {
    const H = this.policy.config.action_horizon;
    const ib = imageBytes(this.#setup.settings);
    const rows: WindowRow[] = [];
    episodes.forEach((e, i) => {
      const stride = plan.stride ?? e.executeSteps;
      if (stride % e.frameStride !== 0) throw new RangeError(`learner: window stride ${stride} is not a multiple of the recorded frame stride ${e.frameStride}`);
      for (const w of sliceWindows(e.length, { horizon: H, stride, tail: plan.tail ?? 'pad' })) {
        const f = w.start / e.frameStride;
        const valid = Math.min(w.valid, plan.supervise ?? H);
        rows.push({
          task: e.task,
          state: e.states.subarray(f * STATE_DIM, (f + 1) * STATE_DIM),
          images: e.images.subarray(f * ib, (f + 1) * ib),
          actions: e.actions.subarray(w.start * ACTION_DIM, (w.start + valid) * ACTION_DIM),
          valid,
          weight: plan.weights?.[i] ?? 1,
        });
      }
    });
    if (rows.length === 0) throw new RangeError('learner.update: the episodes have no training windows (all shorter than one window with tail_windows: skip?)');
    const seed = plan.seed ?? this.#setup.learner.seed + this.policy.step * 1009;
    const rng = new Rng(seed >>> 0);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    return this.#train(rows, { ...plan, seed }, onProgress);
  }

  /**
   * One update on demo windows (SFT): `task` indexes the learner's languages, images are both cameras as the policy
   * sees them at the learner's image size, actions hold `horizon` raw actions per row with a pad mask. `positive`
   * (RECAP) flags each row: 0 trains it unconditional only; absent, every row is positive.
   */
  async trainRows(
    batch: { size: number; horizon: number; task: Int32Array; state: Float32Array; images: Uint8Array; actions: Float32Array; actionIsPad: Uint8Array; positive?: Uint8Array },
    plan: UpdatePlan = {},
    onProgress?: Progress,
  ): Promise<UpdateResult> {
    const ib = imageBytes(this.#setup.settings);
    const T = batch.horizon;
    const rows: WindowRow[] = Array.from({ length: batch.size }, (_, b) => {
      let valid = 0;
      while (valid < T && !batch.actionIsPad[b * T + valid]) valid++;
      return {
        task: batch.task[b],
        state: batch.state.subarray(b * STATE_DIM, (b + 1) * STATE_DIM),
        images: batch.images.subarray(b * ib, (b + 1) * ib),
        actions: batch.actions.subarray(b * T * ACTION_DIM, (b * T + valid) * ACTION_DIM),
        valid: Math.min(valid, this.policy.config.action_horizon),
        weight: 1,
        positive: batch.positive ? batch.positive[b] !== 0 : undefined,
      };
    });
    return this.#train(rows, plan, onProgress);
  }

  async #train(rows: WindowRow[], plan: UpdatePlan, onProgress?: Progress): Promise<UpdateResult> {
    const L = this.#setup.learner;
    const seed = plan.seed ?? L.seed + this.policy.step * 1009;
    const micro = plan.microBatch ?? L.microBatch;
    this.#inputs = this.#inputsFor(micro);
    const dropout = plan.indicatorDropout ?? 0;
    const rng = new Rng((seed ^ 0x5bd1e995) >>> 0);
    const batches: LossBatch[] = [];
    for (let i = 0; i < rows.length; i += micro) {
      const chunk = rows.slice(i, i + micro);
      const positive = Uint8Array.from(chunk, (r) => (r.positive === false || (dropout > 0 && rng.uniform() < dropout) ? 0 : 1));
      batches.push(this.#lossBatch(chunk, positive, (seed + 7919 * (i + 1)) >>> 0, plan.uncondWeight ?? 0));
    }
    const per = plan.accumulation && plan.accumulation > 0 ? plan.accumulation : batches.length;
    const adamw: AdamWOptions = {
      lrModel: plan.lrModel ?? L.lr,
      lrHeader: plan.lrHeader ?? plan.lrModel ?? L.lr,
      weightDecay: plan.weightDecay ?? 0,
      clipNorm: plan.clipNorm ?? L.clipNorm,
    };
    let loss = 0;
    let gradNorm = 0;
    let steps = 0;
    const cond: number[] = [];
    const uncond: number[] = [];
    for (let i = 0; i < batches.length; i += per) {
      const group = batches.slice(i, i + per);
      const r = this.policy.trainStep(group, adamw, (res) => {
        cond.push(...res.lossCond);
        if (res.lossUncond) uncond.push(...res.lossUncond);
        onProgress?.(Math.ceil(cond.length / micro), batches.length);
      });
      loss += r.loss * group.length;
      gradNorm = r.gradNorm;
      steps++;
      this.#updateEma(plan.emaDecay ?? 0);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      loss: loss / batches.length,
      lossCond: mean(cond),
      lossUncond: uncond.length ? mean(uncond) : null,
      gradNorm,
      windows: rows.length,
      optimizerSteps: steps,
      step: this.policy.step,
      version: await this.publish(),
    };
  }

  #updateEma(decay: number): void {
    if (decay <= 0) return;
    const p = this.policy.params();
    if (!this.#ema) {
      this.#ema = p.slice();
      return;
    }
    const ema = this.#ema;
    for (let i = 0; i < p.length; i++) ema[i] = decay * ema[i] + (1 - decay) * p[i];
  }

  #lossBatch(rows: WindowRow[], positive: Uint8Array, seed: number, uncondWeight: number): LossBatch {
    const cfg = this.policy.config;
    const { action_horizon: H, action_dim: A } = cfg;
    const B = rows.length;
    const actions = new Float32Array(B * H * A);
    const actionIsPad = new Uint8Array(B * H);
    const weights = new Float32Array(B);
    rows.forEach((r, b) => {
      this.#inputs.setRow(b, r.task, r.state, r.images);
      weights[b] = r.weight;
      actionIsPad.fill(1, b * H + r.valid, (b + 1) * H);
      normalizeInto(r.actions.subarray(0, r.valid * ACTION_DIM), r.valid, this.#inputs.norm.actions, actions, A, b * H * A);
    });
    const S = cfg.image_size;
    const C = cfg.num_cameras;
    return {
      batch: B,
      images: this.#inputs.images.slice(0, B * C * S * S * 3),
      imageMask: this.#inputs.imageMask.slice(0, B * C),
      tokens: this.#inputs.tokens.slice(0, B * cfg.max_token_len),
      tokenMask: this.#inputs.tokenMask.slice(0, B * cfg.max_token_len),
      state: this.#inputs.state.slice(0, B * cfg.state_dim),
      actions,
      actionIsPad,
      weights,
      isPositive: positive,
      uncondWeight,
      seed,
    };
  }
}
