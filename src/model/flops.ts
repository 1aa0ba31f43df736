// Analytic FLOP counts for a preset (2 FLOPs per multiply-accumulate; matmuls and attention only, norms and
// elementwise ops ignored), the way pi0.md §7 counts them. Used for GFLOP/s in benchmarks and training logs.
import { pi0Sizes, type Pi0Config } from './config.ts';

export interface Pi0Flops {
  siglip: number; // per sample, all cameras: patch embed + blocks (incl. T^2 attention) + projector
  prefixLayers: number; // per sample: VLM q/k/v/o + GeGLU MLP over the P prefix tokens, all layers
  suffixLayers: number; // per sample: action expert q/k/v/o + MLP over the 1+H suffix tokens, all layers
  jointAttention: number; // per sample: QK^T and PV over the dense N x N joint sequence, all layers
  projections: number; // per sample: state_proj, action_in_proj, action_time_mlp_in/out, action_out_proj
  forward: number; // sum of the above: one training forward per sample
  train: number; // 3 x forward (backward = 2 x forward)
  samplePrefix: number; // per sample: SigLIP + VLM over the prefix once (KV fill)
  sampleStep: number; // per sample: one denoise step, suffix queries against P + 1 + H keys
}

/**
 * MACs per sample, with C cameras, T = (S/p)^2 tokens per image, P = C*T + L, Sx = 1 + H, N = P + Sx:
 *   SigLIP     C * [ T*(p*p*3)*Wv + Dv*( T*(4*Wv^2 + 2*Wv*Fv) + 2*T^2*Wv ) + T*Wv*Wl ]
 *   VLM        Dl * P  * ( Wl*(nh*hd) + 2*Wl*(nkv*hd) + (nh*hd)*Wl + 3*Wl*Fl )
 *   expert     Dl * Sx * ( We*(nh*hd) + 2*We*(nkv*hd) + (nh*hd)*We + 3*We*Fe )
 *   attention  Dl * 2 * N^2 * nh * hd                       (QK^T and PV; dense, masked entries included)
 *   heads      D*We + H*( A*We + 2*We*We + We*We + We*A )
 * forward FLOPs = 2 * MACs; training = 3 * forward. Sampling: prefix once (SigLIP + VLM + 2*P^2*nh*hd per layer),
 * then per step expert + 2*Sx*(P+Sx)*nh*hd per layer + heads.
 */
export function pi0Flops(c: Pi0Config): Pi0Flops {
  const { tokensPerImage: T, prefixLen: P, suffixLen: Sx, seqLen: N } = pi0Sizes(c);
  const { width: Wv, depth: Dv, mlp_dim: Fv } = c.vision;
  const { width: Wl, depth: Dl, mlp_dim: Fl, num_heads: nh, num_kv_heads: nkv, head_dim: hd } = c.llm;
  const { width: We, mlp_dim: Fe } = c.expert;
  const H = c.action_horizon;
  const A = c.action_dim;
  const p = c.patch_size;

  const siglipMacs = c.num_cameras * (T * p * p * 3 * Wv + Dv * (T * (4 * Wv * Wv + 2 * Wv * Fv) + 2 * T * T * Wv) + T * Wv * Wl);
  const perTokenLayer = (W: number, F: number) => W * nh * hd + 2 * W * nkv * hd + nh * hd * W + 3 * W * F;
  const prefixMacs = Dl * P * perTokenLayer(Wl, Fl);
  const suffixMacs = Dl * Sx * perTokenLayer(We, Fe);
  const attnMacs = Dl * 2 * N * N * nh * hd;
  const headMacs = c.state_dim * We + H * (A * We + 2 * We * We + We * We + We * A);
  const forward = 2 * (siglipMacs + prefixMacs + suffixMacs + attnMacs + headMacs);
  return {
    siglip: 2 * siglipMacs,
    prefixLayers: 2 * prefixMacs,
    suffixLayers: 2 * suffixMacs,
    jointAttention: 2 * attnMacs,
    projections: 2 * headMacs,
    forward,
    train: 3 * forward,
    samplePrefix: 2 * (siglipMacs + prefixMacs + Dl * 2 * P * P * nh * hd),
    sampleStep: 2 * (suffixMacs + Dl * 2 * Sx * (P + Sx) * nh * hd + headMacs),
  };
}

/** FLOPs of one sampled chunk per sample with `numSteps` Euler steps. */
export function sampleFlops(f: Pi0Flops, numSteps: number): number {
  return f.samplePrefix + numSteps * f.sampleStep;
}
