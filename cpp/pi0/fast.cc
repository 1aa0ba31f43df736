// Fast CPU kernels for PI0 (see fast.h): sgemm for products, row-split threading for the rest.
#include "pi0/fast.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "pi0/layers.h"

namespace riptide::pi0 {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(1, threads); i++) workers_.emplace_back([this, i] { loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

static void chunk(size_t n, int parts, int id, size_t* lo, size_t* hi) {
  size_t per = (n + parts - 1) / parts;
  *lo = std::min(n, per * id);
  *hi = std::min(n, *lo + per);
}

void ThreadPool::loop(int id) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(size_t, size_t)>* fn;
    size_t n;
    {
      std::unique_lock<std::mutex> lk(mu_);
      start_cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      fn = fn_;
      n = n_;
    }
    size_t lo, hi;
    chunk(n, size(), id, &lo, &hi);
    if (lo < hi) (*fn)(lo, hi);
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn) {
  if (workers_.empty() || n < 2) {
    if (n) fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    fn_ = &fn;
    n_ = n;
    pending_ = static_cast<int>(workers_.size());
    generation_++;
  }
  start_cv_.notify_all();
  size_t lo, hi;
  chunk(n, size(), 0, &lo, &hi);
  if (lo < hi) fn(lo, hi);
  std::unique_lock<std::mutex> lk(mu_);
  done_cv_.wait(lk, [&] { return pending_ == 0; });
}

void SetBlasThreads(int n) { openblas_set_num_threads(std::max(1, n)); }

double SgemmGflops(int n, int repeats) {
  SetBlasThreads((int)std::max(1u, std::thread::hardware_concurrency()));
  std::vector<float> a((size_t)n * n), b((size_t)n * n), c((size_t)n * n);
  for (size_t i = 0; i < a.size(); i++) { a[i] = float(i % 7) * 0.1f; b[i] = float(i % 5) * 0.1f; }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < repeats; r++)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(),
                n);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  SetBlasThreads(1);
  return 2.0 * n * n * (double)n * repeats / s / 1e9;
}

namespace fast {

// GEMMs are split into blocks of a fixed size, never into one block per thread: OpenBLAS's result for a row can
// depend on the block's shape, so thread-count-dependent blocks would make the weights depend on the thread count.
// With fixed blocks the same seed gives bit-identical training on 1 or 16 threads.
constexpr int kBlock = 128;

static int Blocks(ThreadPool&, int n) { return std::max(1, (n + kBlock - 1) / kBlock); }

// out (M,N) [+]= inp (M,K) @ w (N,K)^T + bias: split over rows of out.
void matmul_forward(ThreadPool& p, float* out, const float* inp, const float* w, const float* bias, int M, int K,
                    int N, bool accumulate) {
  const int nb = Blocks(p, M);
  p.parallel_for(nb, [&](size_t lo, size_t hi) {
    for (size_t blk = lo; blk < hi; blk++) {
      int m0 = int((int64_t)M * blk / nb), m1 = int((int64_t)M * (blk + 1) / nb);
      float beta = accumulate ? 1.f : 0.f;
      if (bias) {
        for (int m = m0; m < m1; m++) {
          float* o = out + (size_t)m * N;
          if (accumulate) for (int n = 0; n < N; n++) o[n] += bias[n];
          else std::copy(bias, bias + N, o);
        }
        beta = 1.f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m1 - m0, N, K, 1.f, inp + (size_t)m0 * K, K, w, K, beta,
                  out + (size_t)m0 * N, N);
    }
  });
}

// dinp (M,K) += dout (M,N) @ w (N,K), split over rows of dinp; dw (N,K) += dout^T @ inp and dbias, split over
// rows of dw (columns of dout), so no block needs a reduction.
void matmul_backward(ThreadPool& p, float* dinp, float* dw, float* dbias, const float* dout, const float* inp,
                     const float* w, int M, int K, int N) {
  if (dinp) {
    const int nb = Blocks(p, M);
    p.parallel_for(nb, [&](size_t lo, size_t hi) {
      for (size_t blk = lo; blk < hi; blk++) {
        int m0 = int((int64_t)M * blk / nb), m1 = int((int64_t)M * (blk + 1) / nb);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m1 - m0, K, N, 1.f, dout + (size_t)m0 * N, N, w, K,
                    1.f, dinp + (size_t)m0 * K, K);
      }
    });
  }
  if (dw || dbias) {
    const int nb = Blocks(p, N);
    p.parallel_for(nb, [&](size_t lo, size_t hi) {
      for (size_t blk = lo; blk < hi; blk++) {
        int n0 = int((int64_t)N * blk / nb), n1 = int((int64_t)N * (blk + 1) / nb);
        if (dw)
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n1 - n0, K, M, 1.f, dout + n0, N, inp, K, 1.f,
                      dw + (size_t)n0 * K, K);
        if (dbias)
          for (int m = 0; m < M; m++) {
            const float* dy = dout + (size_t)m * N;
            for (int n = n0; n < n1; n++) dbias[n] += dy[n];
          }
      }
    });
  }
}

void layernorm_forward(ThreadPool& p, float* out, float* mean, float* rstd, const float* inp, const float* w,
                       const float* b, int M, int C) {
  p.parallel_for(M, [&](size_t lo, size_t hi) {
    ref::layernorm_forward(out + lo * C, mean + lo, rstd + lo, inp + lo * C, w, b, int(hi - lo), C);
  });
}

void layernorm_backward(ThreadPool& p, float* dinp, float* dw, float* db, const float* dout, const float* inp,
                        const float* w, const float* mean, const float* rstd, int M, int C) {
  // rows in parallel for dinp; the parameter gradients in parallel over channels (no per-thread partials)
  p.parallel_for(M, [&](size_t lo, size_t hi) {
    ref::layernorm_backward<float>(dinp + lo * C, nullptr, nullptr, dout + lo * C, inp + lo * C, w, mean + lo,
                                   rstd + lo, int(hi - lo), C);
  });
  p.parallel_for(C, [&](size_t lo, size_t hi) {
    for (int m = 0; m < M; m++) {
      const float* dy = dout + (size_t)m * C;
      const float* x = inp + (size_t)m * C;
      for (size_t c = lo; c < hi; c++) {
        if (dw) dw[c] += (x[c] - mean[m]) * rstd[m] * dy[c];
        if (db) db[c] += dy[c];
      }
    }
  });
}

void rmsnorm_forward(ThreadPool& p, float* out, float* rstd, const float* inp, const float* w, int M, int C) {
  p.parallel_for(M, [&](size_t lo, size_t hi) {
    ref::rmsnorm_forward(out + lo * C, rstd + lo, inp + lo * C, w, int(hi - lo), C);
  });
}

void rmsnorm_backward(ThreadPool& p, float* dinp, float* dw, const float* dout, const float* inp, const float* w,
                      const float* rstd, int M, int C) {
  p.parallel_for(M, [&](size_t lo, size_t hi) {
    ref::rmsnorm_backward<float>(dinp + lo * C, nullptr, dout + lo * C, inp + lo * C, w, rstd + lo, int(hi - lo), C);
  });
  if (dw)
    p.parallel_for(C, [&](size_t lo, size_t hi) {
      for (int m = 0; m < M; m++) {
        const float* dy = dout + (size_t)m * C;
        const float* x = inp + (size_t)m * C;
        for (size_t c = lo; c < hi; c++) dw[c] += dy[c] * x[c] * rstd[m];
      }
    });
}

// GELU-tanh kernels. libm's tanhf was 22% of a small-preset step, so tanh comes from a branch-free exp (Cephes expf:
// range reduction by ln2, degree-6 polynomial, ~1 ulp) that vectorises; no-trapping-math lets GCC vectorise the
// float->int conversion and the division (IEEE results are unchanged, only FP exception flags are not modelled).
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")

static inline float exp_approx(float x) {
  x = x < -87.f ? -87.f : x;
  x = x > 87.f ? 87.f : x;
  float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float q = 1.9875691500e-4f;
  q = q * r + 1.3981999507e-3f;
  q = q * r + 8.3334519073e-3f;
  q = q * r + 4.1665795894e-2f;
  q = q * r + 1.6666665459e-1f;
  q = q * r + 5.0000001201e-1f;
  float y = q * r * r + r + 1.f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return y * scale;
}
// tanh(u) = 1 - 2 / (1 + exp(2u)); absolute error ~1e-7, which is what GELU needs (it multiplies by x).
static inline float tanh_approx(float u) { return 1.f - 2.f / (1.f + exp_approx(2.f * u)); }

constexpr float kGeluS = 0.7978845608028654f, kGeluC = 0.044715f;

static void gelu_fwd_range(float* __restrict out, const float* __restrict inp, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++) {
    float x = inp[i];
    out[i] = 0.5f * x * (1.f + tanh_approx(kGeluS * (x + kGeluC * x * x * x)));
  }
}
static void gelu_bwd_range(float* __restrict dinp, const float* __restrict dout, const float* __restrict inp,
                           size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++) {
    float x = inp[i];
    float th = tanh_approx(kGeluS * (x + kGeluC * x * x * x));
    float g = 0.5f * (1.f + th) + 0.5f * x * (1.f - th * th) * kGeluS * (1.f + 3.f * kGeluC * x * x);
    dinp[i] += dout[i] * g;
  }
}
static void geglu_fwd_range(float* __restrict h, const float* __restrict gate, const float* __restrict up, size_t lo,
                            size_t hi) {
  for (size_t i = lo; i < hi; i++) {
    float x = gate[i];
    h[i] = 0.5f * x * (1.f + tanh_approx(kGeluS * (x + kGeluC * x * x * x))) * up[i];
  }
}
// one tanh per element for both outputs
static void geglu_bwd_range(float* __restrict dgate, float* __restrict dup, const float* __restrict dh,
                            const float* __restrict gate, const float* __restrict up, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; i++) {
    float x = gate[i];
    float th = tanh_approx(kGeluS * (x + kGeluC * x * x * x));
    float ge = 0.5f * x * (1.f + th);
    float gg = 0.5f * (1.f + th) + 0.5f * x * (1.f - th * th) * kGeluS * (1.f + 3.f * kGeluC * x * x);
    dgate[i] += dh[i] * up[i] * gg;
    dup[i] += dh[i] * ge;
  }
}

#pragma GCC pop_options

void gelu_forward(ThreadPool& p, float* out, const float* inp, size_t n) {
  p.parallel_for(n, [=](size_t lo, size_t hi) { gelu_fwd_range(out, inp, lo, hi); });
}
void gelu_backward(ThreadPool& p, float* dinp, const float* dout, const float* inp, size_t n) {
  p.parallel_for(n, [=](size_t lo, size_t hi) { gelu_bwd_range(dinp, dout, inp, lo, hi); });
}
void geglu_forward(ThreadPool& p, float* h, const float* gate, const float* up, size_t n) {
  p.parallel_for(n, [=](size_t lo, size_t hi) { geglu_fwd_range(h, gate, up, lo, hi); });
}
void geglu_backward(ThreadPool& p, float* dgate, float* dup, const float* dh, const float* gate, const float* up,
                    size_t n) {
  p.parallel_for(n, [=](size_t lo, size_t hi) { geglu_bwd_range(dgate, dup, dh, gate, up, lo, hi); });
}

void rope_forward(ThreadPool& p, float* out, const float* inp, const float* cs, const float* sn, int B, int Tn,
                  int nh, int hd, int ostride, int ooff) {
  p.parallel_for(B, [&](size_t lo, size_t hi) {
    size_t half = hd / 2;
    ref::rope_forward(out + lo * ostride * nh * hd, inp + lo * Tn * nh * hd, cs + lo * Tn * half,
                      sn + lo * Tn * half, int(hi - lo), Tn, nh, hd, ostride, ooff);
  });
}
void rope_backward(ThreadPool& p, float* dinp, const float* dout, const float* cs, const float* sn, int B, int Tn,
                   int nh, int hd, int ostride, int ooff) {
  p.parallel_for(B, [&](size_t lo, size_t hi) {
    size_t half = hd / 2;
    ref::rope_backward(dinp + lo * Tn * nh * hd, dout + lo * ostride * nh * hd, cs + lo * Tn * half,
                       sn + lo * Tn * half, int(hi - lo), Tn, nh, hd, ostride, ooff);
  });
}

// Attention, parallel over batch rows b (single-threaded sgemm inside): logits (Tq*H, Tk) by one GEMM for all heads
// when KV = 1 (the (Tq, H*hd) query block is a (Tq*H, hd) matrix), per head otherwise; masked softmax; probs @ V.
static void softmax_rows(float* a, const uint8_t* mb, int rows, int H, int Tk) {
  for (int r = 0; r < rows; r++, a += Tk) {
    const uint8_t* mrow = mb ? mb + (size_t)(r / H) * Tk : nullptr;
    float mx = -INFINITY;
    for (int j = 0; j < Tk; j++) {
      if (mrow && !mrow[j]) a[j] = float(kMaskValue);
      mx = std::max(mx, a[j]);
    }
    float sum = 0.f;
    for (int j = 0; j < Tk; j++) {
      a[j] = std::exp(a[j] - mx);
      sum += a[j];
    }
    float inv = 1.f / sum;
    for (int j = 0; j < Tk; j++) a[j] *= inv;
  }
}

void attention_forward(ThreadPool& p, float* out, float* att, const float* q, const float* k, const float* v,
                       const uint8_t* mask, int B, int Tq, int Tk, int kstride, int H, int KV, int hd) {
  const float scale = 1.f / std::sqrt(float(hd));
  const int group = H / KV;
  const size_t qs = (size_t)Tq * H * hd, as = (size_t)Tq * H * Tk, ks = (size_t)kstride * KV * hd;
  p.parallel_for(B, [&](size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; b++) {
      const float* qb = q + b * qs;
      const float* kb = k + b * ks;
      const float* vb = v + b * ks;
      float* ab = att + b * as;
      float* ob = out + b * qs;
      if (KV == 1) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq * H, Tk, hd, scale, qb, hd, kb, hd, 0.f, ab, Tk);
      } else {
        for (int h = 0; h < H; h++)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, hd, scale, qb + h * hd, H * hd,
                      kb + (h / group) * hd, KV * hd, 0.f, ab + (size_t)h * Tk, H * Tk);
      }
      softmax_rows(ab, mask ? mask + b * Tq * Tk : nullptr, Tq * H, H, Tk);
      if (KV == 1) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq * H, hd, Tk, 1.f, ab, Tk, vb, hd, 0.f, ob, hd);
      } else {
        for (int h = 0; h < H; h++)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, hd, Tk, 1.f, ab + (size_t)h * Tk, H * Tk,
                      vb + (h / group) * hd, KV * hd, 0.f, ob + h * hd, H * hd);
      }
    }
  });
}

void attention_backward(ThreadPool& p, float* dq, float* dk, float* dv, float* scratch, const float* dout,
                        const float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                        int B, int Tq, int Tk, int kstride, int H, int KV, int hd) {
  const float scale = 1.f / std::sqrt(float(hd));
  const int group = H / KV;
  const size_t qs = (size_t)Tq * H * hd, as = (size_t)Tq * H * Tk, ks = (size_t)kstride * KV * hd;
  p.parallel_for(B, [&](size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; b++) {
      const float* qb = q + b * qs;
      const float* kb = k + b * ks;
      const float* vb = v + b * ks;
      const float* dyb = dout + b * qs;
      const float* ab = att + b * as;
      float* dqb = dq + b * qs;
      float* dkb = dk + b * ks;
      float* dvb = dv + b * ks;
      float* da = scratch + b * as;  // (Tq*H, Tk): d probs, then d logits
      if (KV == 1) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq * H, Tk, hd, 1.f, dyb, hd, vb, hd, 0.f, da, Tk);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, hd, Tq * H, 1.f, ab, Tk, dyb, hd, 1.f, dvb, hd);
      } else {
        for (int h = 0; h < H; h++) {
          int kh = h / group;
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, hd, 1.f, dyb + h * hd, H * hd, vb + kh * hd,
                      KV * hd, 0.f, da + (size_t)h * Tk, H * Tk);
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, hd, Tq, 1.f, ab + (size_t)h * Tk, H * Tk,
                      dyb + h * hd, H * hd, 1.f, dvb + kh * hd, KV * hd);
        }
      }
      const uint8_t* mb = mask ? mask + b * Tq * Tk : nullptr;
      for (int r = 0; r < Tq * H; r++) {
        const float* a = ab + (size_t)r * Tk;
        float* d = da + (size_t)r * Tk;
        const uint8_t* mrow = mb ? mb + (size_t)(r / H) * Tk : nullptr;
        float dot = 0.f;
        for (int j = 0; j < Tk; j++) dot += a[j] * d[j];
        for (int j = 0; j < Tk; j++) d[j] = (mrow && !mrow[j]) ? 0.f : a[j] * (d[j] - dot) * scale;
      }
      if (KV == 1) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq * H, hd, Tk, 1.f, da, Tk, kb, hd, 1.f, dqb, hd);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, hd, Tq * H, 1.f, da, Tk, qb, hd, 1.f, dkb, hd);
      } else {
        for (int h = 0; h < H; h++) {
          int kh = h / group;
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, hd, Tk, 1.f, da + (size_t)h * Tk, H * Tk,
                      kb + kh * hd, KV * hd, 1.f, dqb + h * hd, H * hd);
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, hd, Tq, 1.f, da + (size_t)h * Tk, H * Tk,
                      qb + h * hd, H * hd, 1.f, dkb + kh * hd, KV * hd);
        }
      }
    }
  });
}

}  // namespace fast
}  // namespace riptide::pi0
