// The non-GEMM kernels of the CUDA backend (cuda.h): norms, activations, RoPE, attention, AdamW. One block per row
// for the row reductions, one thread per element for the rest; parameter gradients are column sums in a fixed
// order (no atomics), so a step gives the same result on every run.
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "pi0/config.h"
#include "pi0/cuda/common.cuh"
#include "pi0/cuda/cuda.h"
#include "pi0/layers.h"

namespace riptide::pi0::cuda {
namespace {

constexpr int kRow = 256;  // threads per row-block
constexpr float kEps = float(kNormEps);

// ---- norms ----

__global__ void RmsForward(float* out, float* rstd, const float* inp, const float* w, int C) {
  const float* x = inp + (size_t)blockIdx.x * C;
  float ss = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) ss += x[c] * x[c];
  const float rs = rsqrtf(BlockSum(ss) / C + kEps);
  for (int c = threadIdx.x; c < C; c += blockDim.x) out[(size_t)blockIdx.x * C + c] = x[c] * rs * (1.f + w[c]);
  if (threadIdx.x == 0) rstd[blockIdx.x] = rs;
}

__global__ void RmsBackward(float* dinp, const float* dout, const float* inp, const float* w, const float* rstd, int C) {
  const size_t row = (size_t)blockIdx.x * C;
  const float *dy = dout + row, *x = inp + row;
  const float rs = rstd[blockIdx.x];
  float dot = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) dot += dy[c] * (1.f + w[c]) * x[c];
  const float k = BlockSum(dot) * rs * rs * rs / C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) dinp[row + c] += dy[c] * (1.f + w[c]) * rs - x[c] * k;
}

__global__ void LnForward(float* out, float* mean, float* rstd, const float* inp, const float* w, const float* b,
                          int C) {
  const float* x = inp + (size_t)blockIdx.x * C;
  float s = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) s += x[c];
  const float mu = BlockSum(s) / C;
  float v = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) v += (x[c] - mu) * (x[c] - mu);
  const float rs = rsqrtf(BlockSum(v) / C + kEps);
  for (int c = threadIdx.x; c < C; c += blockDim.x) out[(size_t)blockIdx.x * C + c] = (x[c] - mu) * rs * w[c] + b[c];
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = mu;
    rstd[blockIdx.x] = rs;
  }
}

__global__ void LnBackward(float* dinp, const float* dout, const float* inp, const float* w, const float* mean,
                           const float* rstd, int C) {
  const size_t row = (size_t)blockIdx.x * C;
  const float *dy = dout + row, *x = inp + row;
  const float mu = mean[blockIdx.x], rs = rstd[blockIdx.x];
  float a = 0.f, b = 0.f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const float dn = w[c] * dy[c];
    a += dn;
    b += dn * (x[c] - mu) * rs;
  }
  const float dmean = BlockSum(a) / C, dnorm = BlockSum(b) / C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const float n = (x[c] - mu) * rs;
    dinp[row + c] += (w[c] * dy[c] - dmean - n * dnorm) * rs;
  }
}

// Parameter gradients of the norms (ChannelSum, common.cuh).
template <typename F> void LaunchChannelSum(float* out, int M, int C, F f, const char* name) {
  ChannelSum<<<(C + 31) / 32, 256, 0, Stream()>>>(out, M, C, f);
  Launched(name);
}

// ---- activations (the tanh GELU of layers.h) ----

__device__ inline float Gelu(float x) {
  return 0.5f * x * (1.f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}
__device__ inline float GeluGrad(float x) {
  const float s = 0.7978845608028654f, th = tanhf(s * (x + 0.044715f * x * x * x));
  return 0.5f * (1.f + th) + 0.5f * x * (1.f - th * th) * s * (1.f + 3.f * 0.044715f * x * x);
}

__global__ void GeluFwd(float* out, const float* in, size_t n) { RIPTIDE_FOR_EACH(i, n) out[i] = Gelu(in[i]); }
__global__ void GeluBwd(float* din, const float* dout, const float* in, size_t n) {
  RIPTIDE_FOR_EACH(i, n) din[i] += dout[i] * GeluGrad(in[i]);
}
__global__ void GegluFwd(float* h, const float* g, const float* u, size_t n) {
  RIPTIDE_FOR_EACH(i, n) h[i] = Gelu(g[i]) * u[i];
}
__global__ void GegluBwd(float* dg, float* du, const float* dh, const float* g, const float* u, size_t n) {
  RIPTIDE_FOR_EACH(i, n) {
    dg[i] += dh[i] * u[i] * GeluGrad(g[i]);
    du[i] += dh[i] * Gelu(g[i]);
  }
}

// ---- RoPE (half split), one thread per (b, t, head, i < hd/2) ----

__global__ void Rope(float* out, const float* in, const float* cs, const float* sn, int B, int Tn, int nh, int hd,
                     int os, int oo, bool backward) {
  const int half = hd / 2;
  RIPTIDE_FOR_EACH(e, (size_t)B * Tn * nh * half) {
    const int i = e % half, h = (e / half) % nh, t = (e / half / nh) % Tn, b = e / half / nh / Tn;
    const size_t tok = (size_t)b * Tn + t, x = (tok * nh + h) * hd, y = (((size_t)b * os + oo + t) * nh + h) * hd;
    const float c = cs[tok * half + i], s = sn[tok * half + i];
    if (!backward) {
      const float x1 = in[x + i], x2 = in[x + i + half];
      out[y + i] = x1 * c - x2 * s;
      out[y + i + half] = x2 * c + x1 * s;
    } else {  // out = dinp (rows of the input), in = dout (rows of the output)
      const float d1 = in[y + i], d2 = in[y + i + half];
      out[x + i] += d1 * c + d2 * s;
      out[x + i + half] += -d1 * s + d2 * c;
    }
  }
}

// ---- attention (layers.h attention_forward/backward; K/V rows b*kstride + j; masked logits = kMaskValue) ----
// The products run as batched GEMMs (over the batch, one call per head) on the GEMM engine; these kernels do the
// row work between them in fp32: scale, mask and softmax going forward, the softmax gradient going back.

struct AttnShape {
  int B, Tq, Tk, ks, H, KV, hd;
};

// One block per (query i, head h, batch b): logits (already q.k) -> scaled, masked, softmaxed in place.
__global__ void AttnSoftmax(float* att, const uint8_t* mask, AttnShape s) {
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  float* a = att + (((size_t)b * s.Tq + i) * s.H + h) * s.Tk;
  const uint8_t* mrow = mask ? mask + ((size_t)b * s.Tq + i) * s.Tk : nullptr;
  const float scale = rsqrtf((float)s.hd);
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < s.Tk; j += blockDim.x) {
    const float l = (mrow && !mrow[j]) ? float(kMaskValue) : a[j] * scale;
    a[j] = l;
    mx = fmaxf(mx, l);
  }
  mx = BlockMax(mx);
  float sum = 0.f;
  for (int j = threadIdx.x; j < s.Tk; j += blockDim.x) {
    const float e = expf(a[j] - mx);
    a[j] = e;
    sum += e;
  }
  sum = BlockSum(sum);
  for (int j = threadIdx.x; j < s.Tk; j += blockDim.x) a[j] /= sum;
}

// One block per (i, h, b): da (dy . v, in dl) -> dl = att * (da - sum_j att da) * scale, 0 where masked.
__global__ void AttnSoftmaxBackward(float* dl, const float* att, const uint8_t* mask, AttnShape s) {
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const size_t row = (((size_t)b * s.Tq + i) * s.H + h) * s.Tk;
  const uint8_t* mrow = mask ? mask + ((size_t)b * s.Tq + i) * s.Tk : nullptr;
  float dot = 0.f;
  for (int j = threadIdx.x; j < s.Tk; j += blockDim.x) dot += att[row + j] * dl[row + j];
  dot = BlockSum(dot);
  const float scale = rsqrtf((float)s.hd);
  for (int j = threadIdx.x; j < s.Tk; j += blockDim.x)
    dl[row + j] = (mrow && !mrow[j]) ? 0.f : att[row + j] * (dl[row + j] - dot) * scale;
}

// ---- AdamW ----

constexpr int kSumBlocks = 1024;

__global__ void SumSquaresPartial(double* part, const float* g, size_t n) {
  double s = 0;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)kSumBlocks * blockDim.x)
    s += double(g[i]) * double(g[i]);
  s = BlockSum(s);
  if (threadIdx.x == 0) part[blockIdx.x] = s;
}

__global__ void SumPartials(double* out, const double* part) {
  double s = 0;
  for (int i = threadIdx.x; i < kSumBlocks; i += blockDim.x) s += part[i];
  s = BlockSum(s);
  if (threadIdx.x == 0) *out = s;
}

__global__ void AdamWUpdate(const AdamSegment* segs, int nseg, float* p, const float* g, float* m, float* v, size_t n,
                            float gs, float b1, float b2, float eps, float ibc1, float ibc2) {
  RIPTIDE_FOR_EACH(i, n) {
    int lo = 0, hi = nseg - 1;  // the last segment starting at or before i
    while (lo < hi) {
      const int mid = (lo + hi + 1) / 2;
      if (segs[mid].offset <= i) lo = mid;
      else hi = mid - 1;
    }
    const float lr = segs[lo].lr, wd = segs[lo].wd, gi = g[i] * gs;
    m[i] = b1 * m[i] + (1.f - b1) * gi;
    v[i] = b2 * v[i] + (1.f - b2) * gi * gi;
    p[i] -= lr * ((m[i] * ibc1) / (sqrtf(v[i] * ibc2) + eps) + wd * p[i]);
  }
}

// Managed scratch reused across calls (grown when too small).
template <typename T> T* Scratch(size_t n) {
  static thread_local T* buf = nullptr;
  static thread_local size_t cap = 0;
  if (n > cap) {
    if (buf) ManagedFree(buf);
    buf = static_cast<T*>(ManagedAlloc(n * sizeof(T)));
    cap = n;
  }
  return buf;
}

}  // namespace

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* w, int M, int C) {
  if (M <= 0) return;
  RmsForward<<<M, kRow, 0, Stream()>>>(out, rstd, inp, w, C);
  Launched("rmsnorm forward");
}

void rmsnorm_backward(float* dinp, float* dw, const float* dout, const float* inp, const float* w, const float* rstd,
                      int M, int C) {
  if (M <= 0) return;
  RmsBackward<<<M, kRow, 0, Stream()>>>(dinp, dout, inp, w, rstd, C);
  Launched("rmsnorm backward");
  if (dw)
    LaunchChannelSum(dw, M, C, [=] __device__(int m, int c) {
      return dout[(size_t)m * C + c] * inp[(size_t)m * C + c] * rstd[m];
    }, "rmsnorm weight gradient");
}

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* w, const float* b, int M,
                       int C) {
  if (M <= 0) return;
  LnForward<<<M, kRow, 0, Stream()>>>(out, mean, rstd, inp, w, b, C);
  Launched("layernorm forward");
}

void layernorm_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                        const float* mean, const float* rstd, int M, int C) {
  if (M <= 0) return;
  LnBackward<<<M, kRow, 0, Stream()>>>(dinp, dout, inp, w, mean, rstd, C);
  Launched("layernorm backward");
  if (dw)
    LaunchChannelSum(dw, M, C, [=] __device__(int m, int c) {
      return (inp[(size_t)m * C + c] - mean[m]) * rstd[m] * dout[(size_t)m * C + c];
    }, "layernorm weight gradient");
  if (db)
    LaunchChannelSum(db, M, C, [=] __device__(int m, int c) { return dout[(size_t)m * C + c]; },
                     "layernorm bias gradient");
}

void gelu_forward(float* out, const float* inp, size_t n) {
  GeluFwd<<<Blocks(n, 256), 256, 0, Stream()>>>(out, inp, n);
  Launched("gelu forward");
}
void gelu_backward(float* dinp, const float* dout, const float* inp, size_t n) {
  GeluBwd<<<Blocks(n, 256), 256, 0, Stream()>>>(dinp, dout, inp, n);
  Launched("gelu backward");
}
void geglu_forward(float* h, const float* gate, const float* up, size_t n) {
  GegluFwd<<<Blocks(n, 256), 256, 0, Stream()>>>(h, gate, up, n);
  Launched("geglu forward");
}
void geglu_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up, size_t n) {
  GegluBwd<<<Blocks(n, 256), 256, 0, Stream()>>>(dgate, dup, dh, gate, up, n);
  Launched("geglu backward");
}

void rope_forward(float* out, const float* inp, const float* cs, const float* sn, int B, int Tn, int nh, int hd,
                  int ostride, int ooff) {
  const unsigned blocks = Blocks((size_t)B * Tn * nh * (hd / 2), 256);
  Rope<<<blocks, 256, 0, Stream()>>>(out, inp, cs, sn, B, Tn, nh, hd, ostride, ooff, false);
  Launched("rope forward");
}
void rope_backward(float* dinp, const float* dout, const float* cs, const float* sn, int B, int Tn, int nh, int hd,
                   int ostride, int ooff) {
  const unsigned blocks = Blocks((size_t)B * Tn * nh * (hd / 2), 256);
  Rope<<<blocks, 256, 0, Stream()>>>(dinp, dout, cs, sn, B, Tn, nh, hd, ostride, ooff, true);
  Launched("rope backward");
}

// Per head h (kv head kh), batched over b: GemmViews of head h's columns of q-like (B, Tq, H*hd) tensors, of kv
// head kh's columns of the cache-like K/V (rows b*ks + j), and of head h's (Tq, Tk) block of att (B, Tq, H, Tk).
void attention_forward(float* out, float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                       int B, int Tq, int Tk, int kstride, int H, int KV, int hd) {
  if (B <= 0 || Tq <= 0) return;
  const AttnShape s{B, Tq, Tk, kstride, H, KV, hd};
  const long long QD = (long long)H * hd, KD = (long long)KV * hd, AT = (long long)H * Tk;
  for (int h = 0; h < H; h++) {  // logits: att[b, i, h, j] = q[b, i, h] . k[b, j, kh]
    const int kh = h / (H / KV);
    BatchedGemm(att + (size_t)h * Tk, int(AT), Tq * AT, GemmView{q + (size_t)h * hd, QD, 1, Tq * QD},
         GemmView{k + (size_t)kh * hd, KD, 1, kstride * KD}, nullptr, Tq, Tk, hd, 0.f, B);
  }
  AttnSoftmax<<<dim3(Tq, H, B), 128, 0, Stream()>>>(att, mask, s);
  Launched("attention softmax");
  for (int h = 0; h < H; h++) {  // out[b, i, h] = sum_j att[b, i, h, j] v[b, j, kh]
    const int kh = h / (H / KV);
    BatchedGemm(out + (size_t)h * hd, int(QD), Tq * QD, GemmView{att + (size_t)h * Tk, AT, 1, Tq * AT},
         GemmView{v + (size_t)kh * hd, 1, KD, kstride * KD}, nullptr, Tq, hd, Tk, 0.f, B);
  }
}

void attention_backward(float* dq, float* dk, float* dv, float* scratch, const float* dout, const float* att,
                        const float* q, const float* k, const float* v, const uint8_t* mask, int B, int Tq, int Tk,
                        int kstride, int H, int KV, int hd) {
  if (B <= 0 || Tq <= 0) return;
  const AttnShape s{B, Tq, Tk, kstride, H, KV, hd};
  const long long QD = (long long)H * hd, KD = (long long)KV * hd, AT = (long long)H * Tk;
  // Heads of a group add into the same dk/dv rows one after another (beta 1), in head order.
  for (int h = 0; h < H; h++) {
    const int kh = h / (H / KV);
    const GemmView dy{dout + (size_t)h * hd, QD, 1, Tq * QD}, dyT{dout + (size_t)h * hd, 1, QD, Tq * QD};
    const GemmView a_T{att + (size_t)h * Tk, 1, AT, Tq * AT};
    // da[b, i, h, j] = dy[b, i, h] . v[b, j, kh]   (into scratch)
    BatchedGemm(scratch + (size_t)h * Tk, int(AT), Tq * AT, dy, GemmView{v + (size_t)kh * hd, KD, 1, kstride * KD},
         nullptr, Tq, Tk, hd, 0.f, B);
    // dv[b, j, kh] += sum_i att[b, i, h, j] dy[b, i, h]
    BatchedGemm(dv + (size_t)kh * hd, int(KD), kstride * KD, a_T, dyT, nullptr, Tk, hd, Tq, 1.f, B);
  }
  AttnSoftmaxBackward<<<dim3(Tq, H, B), 128, 0, Stream()>>>(scratch, att, mask, s);
  Launched("attention softmax backward");
  for (int h = 0; h < H; h++) {
    const int kh = h / (H / KV);
    // dq[b, i, h] += sum_j dl[b, i, h, j] k[b, j, kh];  dk[b, j, kh] += sum_i dl[b, i, h, j] q[b, i, h]
    BatchedGemm(dq + (size_t)h * hd, int(QD), Tq * QD, GemmView{scratch + (size_t)h * Tk, AT, 1, Tq * AT},
         GemmView{k + (size_t)kh * hd, 1, KD, kstride * KD}, nullptr, Tq, hd, Tk, 1.f, B);
    BatchedGemm(dk + (size_t)kh * hd, int(KD), kstride * KD, GemmView{scratch + (size_t)h * Tk, 1, AT, Tq * AT},
         GemmView{q + (size_t)h * hd, 1, QD, Tq * QD}, nullptr, Tk, hd, Tq, 1.f, B);
  }
}

double SumSquares(const float* g, size_t n) {
  double* part = Scratch<double>(kSumBlocks + 1);
  SumSquaresPartial<<<kSumBlocks, 256, 0, Stream()>>>(part, g, n);
  Launched("gradient norm");
  SumPartials<<<1, 256, 0, Stream()>>>(part + kSumBlocks, part);
  Launched("gradient norm (total)");
  return part[kSumBlocks];
}

void AdamW(const std::vector<AdamSegment>& segs, float* p, const float* g, float* m, float* v, float gs, float b1,
           float b2, float eps, float ibc1, float ibc2) {
  if (segs.empty()) return;
  const size_t n = segs.back().offset + segs.back().size;
  AdamSegment* table = Scratch<AdamSegment>(segs.size());
  std::copy(segs.begin(), segs.end(), table);
  AdamWUpdate<<<Blocks(n, 256), 256, 0, Stream()>>>(table, (int)segs.size(), p, g, m, v, n, gs, b1, b2, eps, ibc1, ibc2);
  Launched("adamw");
}

double GemmTflops(int n, int repeats) {
  const size_t nn = (size_t)n * n;
  float* a = static_cast<float*>(ManagedAlloc(3 * nn * sizeof(float)));
  float *b = a + nn, *c = b + nn;
  for (size_t i = 0; i < 2 * nn; i++) a[i] = float(i % 7) * 0.1f;
  matmul_forward(c, a, b, nullptr, n, n, n);
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < repeats; r++) matmul_forward(c, a, b, nullptr, n, n, n);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ManagedFree(a);
  return 2.0 * n * n * (double)n * repeats / s / 1e12;
}

}  // namespace riptide::pi0::cuda
