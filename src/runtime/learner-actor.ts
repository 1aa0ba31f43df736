// The learner actor: owns the trainable model, its AdamW state (and an optional EMA of the weights), turns episodes
// into 50-step training windows, runs the update, and publishes the new weights to the rollout actor through the
// board. One update is CFG-Flow (design note pi0-cfg-flow-in-ript): every window carries its episode's weight on the
// conditional (positive) branch, and an unconditional branch with weight alpha shares its noise and time. The plain
// supervised step (all weights 1, no unconditional branch, windows at chunk boundaries) is the same code path.
import { sliceWindows, type Window } from '../algo/windows.ts';
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
  /** Train on exactly these windows (episode index, first step) in this order instead of slicing every episode
   *  (SFT draws its batches from a full-step enumeration index). */
  windows?: { episode: number; start: number }[];
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

interface Sample {
  e: Episode;
  w: Window;
  weight: number;
}

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
  async update(episodes: Episode[], plan: UpdatePlan = {}, onProgress?: (done: number, total: number) => void): Promise<UpdateResult> {
    const L = this.#setup.learner;
    const H = this.policy.config.action_horizon;
    const samples: Sample[] = [];
    const seed = plan.seed ?? L.seed + this.policy.step * 1009;
    if (plan.windows) {
      for (const { episode, start } of plan.windows) {
        const e = episodes[episode];
        if (!e || start % e.frameStride !== 0 || start >= e.length) throw new RangeError(`learner: window (episode ${episode}, step ${start}) has no recorded observation`);
        samples.push({ e, w: { start, valid: Math.min(H, e.length - start) }, weight: plan.weights?.[episode] ?? 1 });
      }
    } else {
      episodes.forEach((e, i) => {
        const stride = plan.stride ?? e.executeSteps;
        if (stride % e.frameStride !== 0) throw new RangeError(`learner: window stride ${stride} is not a multiple of the recorded frame stride ${e.frameStride}`);
        for (const w of sliceWindows(e.length, { horizon: H, stride, tail: plan.tail ?? 'pad' })) samples.push({ e, w, weight: plan.weights?.[i] ?? 1 });
      });
      const rng = new Rng(seed >>> 0);
      for (let i = samples.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [samples[i], samples[j]] = [samples[j], samples[i]];
      }
    }
    if (samples.length === 0) throw new RangeError('learner.update: the episodes have no training windows (all shorter than one window with tail_windows: skip?)');
    const micro = plan.microBatch ?? L.microBatch;
    this.#inputs = this.#inputsFor(micro);
    const batches: LossBatch[] = [];
    for (let i = 0; i < samples.length; i += micro) batches.push(this.#lossBatch(samples.slice(i, i + micro), (seed + 7919 * (i + 1)) >>> 0, plan.uncondWeight ?? 0));
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
        onProgress?.(cond.length === samples.length ? batches.length : Math.ceil(cond.length / micro), batches.length);
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
      windows: samples.length,
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

  #lossBatch(samples: Sample[], seed: number, uncondWeight: number): LossBatch {
    const cfg = this.policy.config;
    const { action_horizon: H, action_dim: A } = cfg;
    const B = samples.length;
    const actions = new Float32Array(B * H * A);
    const actionIsPad = new Uint8Array(B * H);
    const weights = new Float32Array(B);
    const ib = imageBytes(this.#setup.settings);
    samples.forEach(({ e, w, weight }, b) => {
      const f = w.start / e.frameStride;
      this.#inputs.setRow(b, e.task, e.states.subarray(f * STATE_DIM, (f + 1) * STATE_DIM), e.images.subarray(f * ib, (f + 1) * ib));
      weights[b] = weight;
      actionIsPad.fill(1, b * H + w.valid, (b + 1) * H);
      for (let t = 0; t < w.valid; t++) {
        const step = w.start + t;
        normalizeInto(e.actions.subarray(step * ACTION_DIM, (step + 1) * ACTION_DIM), 1, this.#inputs.norm.actions, actions, A, (b * H + t) * A);
      }
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
      isPositive: new Uint8Array(B).fill(1),
      uncondWeight,
      seed,
    };
  }
}
