// Observations -> PI0 model inputs, and model outputs -> env actions, for a batch of up to maxBatch rows. Both the
// rollout actor (sampling) and the learner (loss) fill rows the same way: images resized-with-pad to the preset's
// size in [-1, 1], the 8-dim state z-scored and zero-padded, the task's instruction tokenized once.
import path from 'node:path';

import { PRESET_DIR, type Pi0Config } from '../model/config.ts';
import { preprocessImage } from '../model/image.ts';
import type { SampleBatch } from '../model/native-types.ts';
import { NORM_EPS, normalizeInto, type FeatureStats, type NormStats } from '../model/norm-stats.ts';
import { Pi0Policy } from '../model/pi0.ts';
import { checkTokenizerFitsModel, WordTokenizer } from '../model/tokenizer.ts';
import { ACTION_DIM, CAMERAS, STATE_DIM, type PolicySettings } from './layouts.ts';

export const VOCAB_FILE = path.join(PRESET_DIR, 'vocab.json');

/** Stats that change nothing (a fresh model has none): mean 0, std 1. */
export function identityStats(): NormStats {
  const id = (d: number): FeatureStats => ({ mean: Array(d).fill(0), std: Array(d).fill(1), q01: null, q99: null });
  return { state: id(STATE_DIM), actions: id(ACTION_DIM) };
}

/** The policy a PolicySettings names: a checkpoint, or a preset with seeded weights. */
export function openPolicy(p: PolicySettings): Pi0Policy {
  return p.checkpoint
    ? Pi0Policy.fromCheckpoint(p.checkpoint, { threads: p.threads, device: p.device, optimizer: 'skip' }).policy
    : Pi0Policy.create({ preset: p.preset, seed: p.seed, threads: p.threads, device: p.device });
}

export class PolicyInputs {
  readonly config: Pi0Config;
  readonly maxBatch: number;
  readonly norm: NormStats;
  readonly images: Float32Array;
  readonly imageMask: Uint8Array;
  readonly tokens: Int32Array;
  readonly tokenMask: Uint8Array;
  readonly state: Float32Array;
  readonly #image: { width: number; height: number };
  readonly #prompts: { ids: Int32Array; mask: Uint8Array }[];

  constructor(config: Pi0Config, maxBatch: number, image: { width: number; height: number }, languages: string[], norm: NormStats | null) {
    this.config = config;
    this.maxBatch = maxBatch;
    this.norm = norm ?? identityStats();
    this.#image = image;
    const S = config.image_size;
    const C = config.num_cameras;
    if (C !== CAMERAS.length) throw new RangeError(`the policy preset '${config.name}' has ${C} cameras; riptide's envs give ${CAMERAS.length}`);
    this.images = new Float32Array(maxBatch * C * S * S * 3);
    this.imageMask = new Uint8Array(maxBatch * C).fill(1);
    this.tokens = new Int32Array(maxBatch * config.max_token_len);
    this.tokenMask = new Uint8Array(maxBatch * config.max_token_len);
    this.state = new Float32Array(maxBatch * config.state_dim);
    const tok = WordTokenizer.fromFile(VOCAB_FILE, { vocabLimit: config.llm.vocab_size });
    checkTokenizerFitsModel(tok, config.llm.vocab_size, VOCAB_FILE);
    this.#prompts = languages.map((l) => {
      const t = tok.encode(l, config.max_token_len);
      return { ids: t.ids, mask: t.mask };
    });
  }

  /** Fills row b from task `task`'s prompt, an 8-dim state and both cameras' uint8 images (agentview first). */
  setRow(b: number, task: number, state: Float32Array, images: Uint8Array): void {
    const c = this.config;
    const S = c.image_size;
    const { width: w, height: h } = this.#image;
    for (let cam = 0; cam < c.num_cameras; cam++) {
      const src = images.subarray(cam * h * w * 3, (cam + 1) * h * w * 3);
      preprocessImage(src, h, w, S, this.images, (b * c.num_cameras + cam) * S * S * 3);
    }
    normalizeInto(state, 1, this.norm.state, this.state, c.state_dim, b * c.state_dim);
    const p = this.#prompts[task];
    this.tokens.set(p.ids, b * c.max_token_len);
    this.tokenMask.set(p.mask, b * c.max_token_len);
  }

  /** A SampleBatch over rows 0..B-1 (views, no copy). */
  sampleBatch(B: number, noise: Float32Array, flowSteps: number, cfgScale: number): SampleBatch {
    const c = this.config;
    const S = c.image_size;
    return {
      batch: B,
      images: this.images.subarray(0, B * c.num_cameras * S * S * 3),
      imageMask: this.imageMask.subarray(0, B * c.num_cameras),
      tokens: this.tokens.subarray(0, B * c.max_token_len),
      tokenMask: this.tokenMask.subarray(0, B * c.max_token_len),
      state: this.state.subarray(0, B * c.state_dim),
      noise,
      numSteps: flowSteps,
      cfgScale,
    };
  }

  /** Row b of a sampled chunk (normalised, H x A) -> `steps` env actions in [-1, 1] (steps x 7) into out. */
  toActions(sampled: Float32Array, b: number, steps: number, out: Float32Array): void {
    const { action_horizon: H, action_dim: A } = this.config;
    const { mean, std } = this.norm.actions;
    for (let t = 0; t < steps; t++) {
      for (let j = 0; j < ACTION_DIM; j++) {
        const v = sampled[b * H * A + t * A + j] * (std[j] + NORM_EPS) + mean[j];
        out[t * ACTION_DIM + j] = Math.max(-1, Math.min(1, v));
      }
    }
  }
}
