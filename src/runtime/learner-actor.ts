// The learner actor: owns the trainable model and its AdamW state, turns batches of episodes into loss batches
// (one window per chunk boundary: that boundary's observation and the next action_horizon actions, padded past the
// episode's end), runs an update step, and publishes the new weights to the rollout actor through the board.
// The update here is supervised flow matching on the episodes' own actions; the RL update plugs in the same way.
import type { AdamWOptions, LossBatch } from '../model/native-types.ts';
import { normalizeInto } from '../model/norm-stats.ts';
import type { Pi0Policy } from '../model/pi0.ts';
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
}

export const DEFAULT_LEARNER: LearnerSettings = { lr: 1e-4, microBatch: 16, seed: 0, clipNorm: 1 };

export interface LearnerSetup {
  settings: RuntimeSettings;
  learner: LearnerSettings;
  board: BoardDescriptor;
  languages: string[];
}

export interface UpdateResult {
  loss: number;
  gradNorm: number;
  windows: number;
  step: number;
  /** The weights version published after the step. */
  version: number;
}

export class LearnerActor {
  readonly policy: Pi0Policy;
  readonly #setup: LearnerSetup;
  readonly #board: WeightsBoard;
  readonly #inputs: PolicyInputs;

  constructor(setup: LearnerSetup) {
    this.#setup = setup;
    this.policy = openPolicy(setup.settings.policy);
    this.#board = WeightsBoard.attach(setup.board);
    this.#inputs = new PolicyInputs(this.policy.config, setup.learner.microBatch, setup.settings.image, setup.languages, this.policy.normStats);
  }

  /** Publishes the current weights; returns their version. */
  publish(): Promise<number> {
    return this.#board.publish(this.policy.params());
  }

  /** One optimizer step over every chunk window of `episodes`, then publish. */
  async update(episodes: Episode[]): Promise<UpdateResult> {
    const windows = episodes.flatMap((e) => Array.from({ length: e.chunks }, (_, c) => ({ e, c })));
    if (windows.length === 0) throw new RangeError('learner.update: the episodes have no chunk boundaries to learn from');
    const { lr, clipNorm, microBatch, seed } = this.#setup.learner;
    const batches: LossBatch[] = [];
    for (let i = 0; i < windows.length; i += microBatch) batches.push(this.#lossBatch(windows.slice(i, i + microBatch), seed + this.policy.step * 1009 + i));
    const adamw: AdamWOptions = { lrModel: lr, lrHeader: lr, clipNorm };
    const r = this.policy.trainStep(batches, adamw);
    return { loss: r.loss, gradNorm: r.gradNorm, windows: windows.length, step: r.step, version: await this.publish() };
  }

  #lossBatch(windows: { e: Episode; c: number }[], seed: number): LossBatch {
    const cfg = this.policy.config;
    const { action_horizon: H, action_dim: A } = cfg;
    const B = windows.length;
    const actions = new Float32Array(B * H * A);
    const actionIsPad = new Uint8Array(B * H);
    const ib = imageBytes(this.#setup.settings);
    windows.forEach(({ e, c }, b) => {
      this.#inputs.setRow(b, e.task, e.states.subarray(c * STATE_DIM, (c + 1) * STATE_DIM), e.images.subarray(c * ib, (c + 1) * ib));
      const from = c * e.executeSteps;
      for (let t = 0; t < H; t++) {
        const step = from + t;
        if (step >= e.length) {
          actionIsPad[b * H + t] = 1;
          continue;
        }
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
      seed,
    };
  }
}
