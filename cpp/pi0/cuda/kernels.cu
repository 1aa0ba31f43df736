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

// Parameter gradients of the norms: out[c] += sum over rows m of f(m, c); 32 channels per block, 8 row lanes.
template <typename F> __global__ void ChannelSum(float* out, int M, int C, F f) {
  __shared__ float part[8][33];
  const int c = threadIdx.x % 32, lane = threadIdx.x / 32, ch = blockIdx.x * 32 + c;
  float s = 0.f;
  if (ch < C)
    for (int m = lane; m < M; m += 8) s += f(m, ch);
  part[lane][c] = s;
  __syncthreads();
  if (lane == 0 && ch < C) {
    float t = 0.f;
    for (int l = 0; l < 8; l++) t += part[l][c];
    out[ch] += t;
  }
}

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

#define RIPTIDE_FOR_EACH(i, n) for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

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

struct AttnShape {
  int B, Tq, Tk, ks, H, KV, hd;
};
constexpr int kMaxHeadDim = 256;  // PI0's Gemma: 256, SigLIP: 72

// One block per (query i, head h, batch b): logits into the att row, softmax in place, then out = att . V.
__global__ void AttnForward(float* out, float* att, const float* q, const float* k, const float* v,
                            const uint8_t* mask, AttnShape s) {
  __shared__ float qs[kMaxHeadDim];
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z, kh = h / (s.H / s.KV), QD = s.H * s.hd,
            KD = s.KV * s.hd;
  const float* qi = q + ((size_t)b * s.Tq + i) * QD + (size_t)h * s.hd;
  float* a = att + (((size_t)b * s.Tq + i) * s.H + h) * s.Tk;
  const uint8_t* mrow = mask ? mask + ((size_t)b * s.Tq + i) * s.Tk : nullptr;
  for (int d = threadIdx.x; d < s.hd; d += blockDim.x) qs[d] = qi[d];
  __syncthreads();
  const float scale = rsqrtf((float)s.hd);
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < s.Tk; j += blockDim.x) {
    float l = float(kMaskValue);
    if (!mrow || mrow[j]) {
      const float* kj = k + ((size_t)b * s.ks + j) * KD + (size_t)kh * s.hd;
      l = 0.f;
      for (int d = 0; d < s.hd; d++) l += qs[d] * kj[d];
      l *= scale;
    }
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
  __syncthreads();  // every thread reads the whole row below
  float* o = out + ((size_t)b * s.Tq + i) * QD + (size_t)h * s.hd;
  for (int d = threadIdx.x; d < s.hd; d += blockDim.x) {
    float acc = 0.f;
    for (int j = 0; j < s.Tk; j++) acc += a[j] * v[((size_t)b * s.ks + j) * KD + (size_t)kh * s.hd + d];
    o[d] = acc;
  }
}

// Per query row: dl = att * (dy.v - sum_j att dy.v) * scale into scratch (0 where masked), and dq += dl . K.
__global__ void AttnBackwardQ(float* dq, float* dl, const float* dout, const float* att, const float* k,
                              const float* v, const uint8_t* mask, AttnShape s) {
  __shared__ float dys[kMaxHeadDim];
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z, kh = h / (s.H / s.KV), QD = s.H * s.hd,
            KD = s.KV * s.hd;
  const size_t qrow = ((size_t)b * s.Tq + i) * QD + (size_t)h * s.hd, arow = (((size_t)b * s.Tq + i) * s.H + h) * s.Tk;
  const uint8_t* mrow = mask ? mask + ((size_t)b * s.Tq + i) * s.Tk : nullptr;
  for (int d = threadIdx.x; d < s.hd; d += blockDim.x) dys[d] = dout[qrow + d];
  __syncthreads();
  float dot = 0.f;
  for (int j = threadIdx.x; j < s.Tk; j += blockDim.x) {
    const float* vj = v + ((size_t)b * s.ks + j) * KD + (size_t)kh * s.hd;
    float sj = 0.f;
    for (int d = 0; d < s.hd; d++) sj += dys[d] * vj[d];
    dl[arow + j] = sj;
    dot += att[arow + j] * sj;
  }
  dot = BlockSum(dot);
  const float scale = rsqrtf((float)s.hd);
  for (int j = threadIdx.x; j < s.Tk; j += blockDim.x)
    dl[arow + j] = (mrow && !mrow[j]) ? 0.f : att[arow + j] * (dl[arow + j] - dot) * scale;
  __syncthreads();
  for (int d = threadIdx.x; d < s.hd; d += blockDim.x) {
    float acc = 0.f;
    for (int j = 0; j < s.Tk; j++) acc += dl[arow + j] * k[((size_t)b * s.ks + j) * KD + (size_t)kh * s.hd + d];
    dq[qrow + d] += acc;
  }
}

// Per key row (j, kv head, b): dk += sum over queries and the heads of the group of dl q; dv likewise of att dy.
__global__ void AttnBackwardKV(float* dk, float* dv, const float* dl, const float* att, const float* q,
                               const float* dout, AttnShape s) {
  const int j = blockIdx.x, kh = blockIdx.y, b = blockIdx.z, group = s.H / s.KV, QD = s.H * s.hd, KD = s.KV * s.hd;
  const size_t krow = ((size_t)b * s.ks + j) * KD + (size_t)kh * s.hd;
  for (int d = threadIdx.x; d < s.hd; d += blockDim.x) {
    float ak = 0.f, av = 0.f;
    for (int i = 0; i < s.Tq; i++)
      for (int h = kh * group; h < (kh + 1) * group; h++) {
        const size_t a = (((size_t)b * s.Tq + i) * s.H + h) * s.Tk + j, r = ((size_t)b * s.Tq + i) * QD + (size_t)h * s.hd + d;
        ak += dl[a] * q[r];
        av += att[a] * dout[r];
      }
    dk[krow + d] += ak;
    dv[krow + d] += av;
  }
}

int AttnThreads(int hd) {
  if (hd > kMaxHeadDim)
    throw Pi0Error("CUDA attention: head dim " + std::to_string(hd) + " is over the kernels' " +
                   std::to_string(kMaxHeadDim) + " (kMaxHeadDim in cpp/pi0/cuda/kernels.cu)");
  return hd >= 128 ? 128 : 64;
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
  Rope<<<Blocks((size_t)B * Tn * nh * (hd / 2), 256), 256, 0, Stream()>>>(out, inp, cs, sn, B, Tn, nh, hd, ostride, ooff, false);
  Launched("rope forward");
}
void rope_backward(float* dinp, const float* dout, const float* cs, const float* sn, int B, int Tn, int nh, int hd,
                   int ostride, int ooff) {
  Rope<<<Blocks((size_t)B * Tn * nh * (hd / 2), 256), 256, 0, Stream()>>>(dinp, dout, cs, sn, B, Tn, nh, hd, ostride, ooff, true);
  Launched("rope backward");
}

void attention_forward(float* out, float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                       int B, int Tq, int Tk, int kstride, int H, int KV, int hd) {
  if (B <= 0 || Tq <= 0) return;
  const AttnShape s{B, Tq, Tk, kstride, H, KV, hd};
  AttnForward<<<dim3(Tq, H, B), AttnThreads(hd), 0, Stream()>>>(out, att, q, k, v, mask, s);
  Launched("attention forward");
}

void attention_backward(float* dq, float* dk, float* dv, float* scratch, const float* dout, const float* att,
                        const float* q, const float* k, const float* v, const uint8_t* mask, int B, int Tq, int Tk,
                        int kstride, int H, int KV, int hd) {
  if (B <= 0 || Tq <= 0) return;
  const AttnShape s{B, Tq, Tk, kstride, H, KV, hd};
  AttnBackwardQ<<<dim3(Tq, H, B), AttnThreads(hd), 0, Stream()>>>(dq, scratch, dout, att, k, v, mask, s);
  Launched("attention backward (queries)");
  AttnBackwardKV<<<dim3(Tk, KV, B), AttnThreads(hd), 0, Stream()>>>(dk, dv, scratch, att, q, dout, s);
  Launched("attention backward (keys, values)");
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
