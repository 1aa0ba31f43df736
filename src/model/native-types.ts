// The raw PI0 and value model bindings (cpp/addon/pi0_binding.cc). src/model/pi0.ts and src/model/value.ts wrap
// them; nothing else should call them.
// Shapes use B batch, C cameras, S image size, L max_token_len, H action_horizon, A action_dim (32), D state_dim (32).

export interface ParamEntry {
  name: string; // lerobot/openpi PyTorch key, e.g. 'paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj.weight'
  shape: number[]; // PyTorch layout ([out, in] for linear weights)
  offset: number; // element offset into params()/grads()
  size: number;
  group: 'model' | 'header'; // header = state_proj, action_in_proj, action_time_mlp_*, action_out_proj, cfg_embedding; value.*
}

/** The observation both models read: PI0's prefix + state, the value model's whole input. */
export interface ObsBatch {
  batch: number; // B
  images: Float32Array; // B*C*S*S*3, HWC per camera, values in [-1, 1]
  imageMask: Uint8Array; // B*C, 0 = camera missing (token row masked)
  tokens: Int32Array; // B*L
  tokenMask: Uint8Array; // B*L
  state: Float32Array; // B*D, normalised and zero-padded
}

export interface LossBatch extends ObsBatch {
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

export interface SampleBatch extends ObsBatch {
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
  device(): 'cpu' | 'cuda';
}

// The value model (cpp/pi0/value.h). K bins; bin k stands for the normalised return -1 + k/(K-1), k in [0, K).
export interface ValueLossBatch extends ObsBatch {
  targetBin: Int32Array; // B, each in [0, K): round((r + 1) * (K - 1)) of the normalised return r in [-1, 0]
  weights?: Float32Array; // B, >= 0 with a positive sum; loss = sum_i w_i l_i / sum_i w_i; default all 1
  targetValue?: Float32Array; // B, the normalised return r; required when mseWeight > 0
  mseWeight?: number; // adds mseWeight * (E[v] - targetValue)^2 per sample; default 0 (CE only, as OpenTau)
  backward?: boolean; // default true: accumulate gradients into grads()
}

export interface ValueLossResult {
  loss: number; // sum_i w_i (CE_i + mseWeight (E_i - r_i)^2) / sum_i w_i
  ce: Float32Array; // B per-sample cross-entropy (unweighted)
  values: Float32Array; // B expected values E_i = softmax(logits_i) . bin values
}

export interface ValueModelOptions {
  bins?: number; // K, default 201
  threads?: number; // default: the machine's cores (at most 16)
  path?: 'fast' | 'reference'; // default 'fast'
  device?: NativeDevice; // default 'cpu'
}

export interface NativeValueModel {
  paramSpec(): ParamEntry[]; // PI0's vision + language names (group 'model'), then value.* (group 'header')
  params(): Float32Array;
  grads(): Float32Array;
  adamM(): Float32Array;
  adamV(): Float32Array;
  bins(): number;
  step(): number;
  setStep(n: number): void;
  zeroGrad(): void;
  setThreads(n: number): void;
  loss(batch: ValueLossBatch): ValueLossResult;
  predict(batch: ObsBatch): Float32Array; // B*K logits
  optimizerStep(opts: AdamWOptions): { gradNorm: number };
  device(): NativeDevice;
}

/** Where a native model runs; 'auto' is resolved in src/model/device.ts before the addon sees it. */
export type NativeDevice = 'cpu' | 'cuda';

export interface CudaInfo {
  built: boolean; // the addon was compiled with nvcc
  cublas: boolean; // ... and with cuBLAS, which then computes the GEMMs
  count: number; // usable devices; 0 with `error` saying why
  name: string;
  computeCapability: string; // e.g. '9.0'
  smCount: number;
  memoryBytes: number;
  runtimeVersion: number; // e.g. 13000
  driverVersion: number; // 0: no driver
  error: string;
}

export interface CudaKernelCheck {
  name: string;
  error: number; // max |cuda - ref| / max(1, max |ref|)
  tol: number;
  pass: boolean;
}

export interface NativePi0 {
  // config: the JSON text of a configs/model/*.json preset; path 'fast' (default) or 'reference'
  Pi0Model: new (configJson: string, seed: number, options?: { path?: 'fast' | 'reference'; device?: NativeDevice }) => NativePi0Model;
  // the same preset JSON (its action-expert fields unused)
  ValueModel: new (configJson: string, seed: number, options?: ValueModelOptions) => NativeValueModel;
  sgemmGflops(n: number, repeats: number): number; // OpenBLAS sgemm GFLOP/s measured now (bench baseline)
  cudaInfo(): CudaInfo;
  // present only in a build with CUDA (cpp/pi0/cuda); each throws when no device is usable
  cudaSetGemm?(precision: 'bf16' | 'fp32'): void; // process-wide GEMM precision, default bf16
  cudaGemmTflops?(n: number, repeats: number): number; // the GEMM engine (cuBLAS or ours) on n^3, TFLOP/s
  cudaKernelCheck?(seed: number): CudaKernelCheck[]; // every kernel against the CPU reference
}
