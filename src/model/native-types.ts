// The raw PI0 binding (cpp/addon/pi0_binding.cc). src/model/pi0.ts wraps it; nothing else should call it.
// Shapes use B batch, C cameras, S image size, L max_token_len, H action_horizon, A action_dim (32), D state_dim (32).

export interface ParamEntry {
  name: string; // lerobot/openpi PyTorch key, e.g. 'paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj.weight'
  shape: number[]; // PyTorch layout ([out, in] for linear weights)
  offset: number; // element offset into params()/grads()
  size: number;
  group: 'model' | 'header'; // header = state_proj, action_in_proj, action_time_mlp_*, action_out_proj, cfg_embedding
}

export interface LossBatch {
  batch: number; // B
  images: Float32Array; // B*C*S*S*3, HWC per camera, values in [-1, 1]
  imageMask: Uint8Array; // B*C, 0 = camera missing (token row masked)
  tokens: Int32Array; // B*L
  tokenMask: Uint8Array; // B*L
  state: Float32Array; // B*D, normalised and zero-padded
  actions: Float32Array; // B*H*A, normalised and zero-padded
  actionIsPad?: Uint8Array; // B*H, 1 = padded step, excluded from the loss
  actionDimMask?: Uint8Array; // A, 1 = dim counted in the loss (default all 32, openpi parity)
  noise?: Float32Array; // B*H*A; omitted = sampled from seed
  time?: Float32Array; // B; omitted = 0.999*Beta(1.5,1)+0.001 from seed
  seed?: number;
  isPositive?: Uint8Array; // B, cfg index of the conditional branch (1 positive, 0 unconditional); default all 1
  weights?: Float32Array; // B, per-sample weight of the conditional branch; default 1
  uncondWeight?: number; // alpha: adds alpha * mean(L_uncond) with shared noise/time, prefix run once; default 0 (no branch)
  backward?: boolean; // default true: accumulate gradients into grads()
}

export interface LossResult {
  loss: number; // mean(w_b * L_cond_b) + alpha * mean(L_uncond_b)
  lossCond: Float32Array; // B per-sample conditional losses (unweighted)
  lossUncond: Float32Array | null; // B, when uncondWeight > 0
}

export interface SampleBatch {
  batch: number;
  images: Float32Array;
  imageMask: Uint8Array;
  tokens: Int32Array;
  tokenMask: Uint8Array;
  state: Float32Array;
  noise: Float32Array; // B*H*A, the x at t = 1
  numSteps?: number; // default 10
  cfgScale?: number; // default 1: conditional (positive) only; != 1: v_u + s*(v_pos - v_u)
}

export interface AdamWOptions {
  lrModel: number;
  lrHeader: number;
  beta1?: number; // 0.9
  beta2?: number; // 0.95
  eps?: number; // 1e-8
  weightDecay?: number;
  clipNorm?: number; // global-norm clip; 0 = off
  gradScale?: number; // multiply grads first (1/accumulation steps)
}

export interface NativePi0Model {
  paramSpec(): ParamEntry[];
  params(): Float32Array; // live view of the fp32 master weights
  grads(): Float32Array;
  adamM(): Float32Array;
  adamV(): Float32Array;
  step(): number; // optimizer steps taken
  setStep(n: number): void;
  zeroGrad(): void;
  loss(batch: LossBatch): LossResult;
  optimizerStep(opts: AdamWOptions): { gradNorm: number };
  sample(batch: SampleBatch): Float32Array; // B*H*A normalised actions at t = 0
  setThreads(n: number): void;
}

export interface NativePi0 {
  // config: the JSON text of a configs/model/*.json preset; path 'fast' (default) or 'reference'
  Pi0Model: new (configJson: string, seed: number, options?: { path?: 'fast' | 'reference' }) => NativePi0Model;
  sgemmGflops(n: number, repeats: number): number; // OpenBLAS sgemm GFLOP/s measured now (bench baseline)
}
