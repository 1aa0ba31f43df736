// Reference PI0 layers: plain loops, templated on the scalar so the same code runs in double (finite-difference
// gradient checks) and in float (the reference the fast path in fast.h is tested against). Obviously right
// over fast. Every backward ACCUMULATES (+=) into the gradients it is given; a null pointer skips that gradient.
// Names: M rows (batch*tokens stacked), K in-features, N out-features, C channels, H heads, hd head dim.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace riptide::pi0 {

// openpi/lerobot: where(mask, logits, -2.3819763e38). Finite, so a fully masked row softmaxes to uniform.
constexpr double kMaskValue = -2.3819763e38;
constexpr double kNormEps = 1e-6;  // LayerNorm (SigLIP) and RMSNorm (Gemma)

namespace ref {

// out (M,N) = [out +] inp (M,K) @ w (N,K)^T + bias (N). PyTorch nn.Linear layout; bias may be null;
// accumulate adds into out (a residual connection fused into the product).
template <typename T>
void matmul_forward(T* out, const T* inp, const T* w, const T* bias, int M, int K, int N, bool accumulate = false) {
  for (int m = 0; m < M; m++) {
    const T* x = inp + (size_t)m * K;
    for (int n = 0; n < N; n++) {
      const T* wr = w + (size_t)n * K;
      T acc = (bias ? bias[n] : T(0)) + (accumulate ? out[(size_t)m * N + n] : T(0));
      for (int k = 0; k < K; k++) acc += x[k] * wr[k];
      out[(size_t)m * N + n] = acc;
    }
  }
}

template <typename T>
void matmul_backward(T* dinp, T* dw, T* dbias, const T* dout, const T* inp, const T* w, int M, int K, int N) {
  for (int m = 0; m < M; m++) {
    const T* dy = dout + (size_t)m * N;
    const T* x = inp + (size_t)m * K;
    for (int n = 0; n < N; n++) {
      T g = dy[n];
      if (dinp) { T* dx = dinp + (size_t)m * K; const T* wr = w + (size_t)n * K; for (int k = 0; k < K; k++) dx[k] += g * wr[k]; }
      if (dw) { T* dwr = dw + (size_t)n * K; for (int k = 0; k < K; k++) dwr[k] += g * x[k]; }
      if (dbias) dbias[n] += g;
    }
  }
}

// LayerNorm with scale and bias (SigLIP, eps 1e-6). mean, rstd (M) are saved for backward.
template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* w, const T* b, int M, int C) {
  for (int m = 0; m < M; m++) {
    const T* x = inp + (size_t)m * C;
    T mu = 0;
    for (int c = 0; c < C; c++) mu += x[c];
    mu /= C;
    T var = 0;
    for (int c = 0; c < C; c++) var += (x[c] - mu) * (x[c] - mu);
    var /= C;
    T rs = T(1) / std::sqrt(var + T(kNormEps));
    for (int c = 0; c < C; c++) out[(size_t)m * C + c] = (x[c] - mu) * rs * w[c] + b[c];
    mean[m] = mu;
    rstd[m] = rs;
  }
}

template <typename T>
void layernorm_backward(T* dinp, T* dw, T* db, const T* dout, const T* inp, const T* w, const T* mean,
                        const T* rstd, int M, int C) {
  for (int m = 0; m < M; m++) {
    const T* dy = dout + (size_t)m * C;
    const T* x = inp + (size_t)m * C;
    T mu = mean[m], rs = rstd[m];
    T dnorm_mean = 0, dnorm_norm_mean = 0;
    for (int c = 0; c < C; c++) {
      T n = (x[c] - mu) * rs;
      T dn = w[c] * dy[c];
      dnorm_mean += dn;
      dnorm_norm_mean += dn * n;
    }
    dnorm_mean /= C;
    dnorm_norm_mean /= C;
    for (int c = 0; c < C; c++) {
      T n = (x[c] - mu) * rs;
      T dn = w[c] * dy[c];
      if (db) db[c] += dy[c];
      if (dw) dw[c] += n * dy[c];
      dinp[(size_t)m * C + c] += (dn - dnorm_mean - n * dnorm_norm_mean) * rs;
    }
  }
}

// Gemma RMSNorm: out = x * rsqrt(mean(x^2) + 1e-6) * (1 + w); w is stored in the zero-init offset form.
template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* inp, const T* w, int M, int C) {
  for (int m = 0; m < M; m++) {
    const T* x = inp + (size_t)m * C;
    T ss = 0;
    for (int c = 0; c < C; c++) ss += x[c] * x[c];
    T rs = T(1) / std::sqrt(ss / C + T(kNormEps));
    for (int c = 0; c < C; c++) out[(size_t)m * C + c] = x[c] * rs * (T(1) + w[c]);
    rstd[m] = rs;
  }
}

template <typename T>
void rmsnorm_backward(T* dinp, T* dw, const T* dout, const T* inp, const T* w, const T* rstd, int M, int C) {
  for (int m = 0; m < M; m++) {
    const T* dy = dout + (size_t)m * C;
    const T* x = inp + (size_t)m * C;
    T rs = rstd[m];
    T dot = 0;  // sum_c dy*(1+w)*x
    for (int c = 0; c < C; c++) dot += dy[c] * (T(1) + w[c]) * x[c];
    T k = dot * rs * rs * rs / C;
    for (int c = 0; c < C; c++) {
      if (dw) dw[c] += dy[c] * x[c] * rs;
      dinp[(size_t)m * C + c] += dy[c] * (T(1) + w[c]) * rs - x[c] * k;
    }
  }
}

// GELU, tanh approximation (flax nn.gelu default, HF gelu_pytorch_tanh).
template <typename T> inline T gelu(T x) {
  const T s = T(0.7978845608028654);  // sqrt(2/pi)
  return T(0.5) * x * (T(1) + std::tanh(s * (x + T(0.044715) * x * x * x)));
}
template <typename T> inline T gelu_grad(T x) {
  const T s = T(0.7978845608028654);
  T th = std::tanh(s * (x + T(0.044715) * x * x * x));
  return T(0.5) * (T(1) + th) + T(0.5) * x * (T(1) - th * th) * s * (T(1) + T(3 * 0.044715) * x * x);
}

template <typename T> void gelu_forward(T* out, const T* inp, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = gelu(inp[i]);
}
template <typename T> void gelu_backward(T* dinp, const T* dout, const T* inp, size_t n) {
  for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * gelu_grad(inp[i]);
}

// GeGLU inner: h = gelu_tanh(gate) * up (gate = x W_gate^T, up = x W_up^T).
template <typename T> void geglu_forward(T* h, const T* gate, const T* up, size_t n) {
  for (size_t i = 0; i < n; i++) h[i] = gelu(gate[i]) * up[i];
}
template <typename T> void geglu_backward(T* dgate, T* dup, const T* dh, const T* gate, const T* up, size_t n) {
  for (size_t i = 0; i < n; i++) {
    dgate[i] += dh[i] * up[i] * gelu_grad(gate[i]);
    dup[i] += dh[i] * gelu(gate[i]);
  }
}

// SiLU / swish: x * sigmoid(x).
template <typename T> void silu_forward(T* out, const T* inp, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = inp[i] / (T(1) + std::exp(-inp[i]));
}
template <typename T> void silu_backward(T* dinp, const T* dout, const T* inp, size_t n) {
  for (size_t i = 0; i < n; i++) {
    T s = T(1) / (T(1) + std::exp(-inp[i]));
    dinp[i] += dout[i] * s * (T(1) + inp[i] * (T(1) - s));
  }
}

// Token embedding: out (M,C) = table[tokens[m]] * scale (scale = sqrt(width) for language tokens).
template <typename T>
void embedding_forward(T* out, const int32_t* tokens, const T* table, int M, int C, T scale) {
  for (int m = 0; m < M; m++)
    for (int c = 0; c < C; c++) out[(size_t)m * C + c] = table[(size_t)tokens[m] * C + c] * scale;
}
template <typename T>
void embedding_backward(T* dtable, const T* dout, const int32_t* tokens, int M, int C, T scale) {
  for (int m = 0; m < M; m++)
    for (int c = 0; c < C; c++) dtable[(size_t)tokens[m] * C + c] += dout[(size_t)m * C + c] * scale;
}

// Half-split RoPE on (B,T,nh,hd): [x1 c - x2 s, x2 c + x1 s] with x1 = x[:hd/2], x2 = x[hd/2:].
// cs, sn: (B,T,hd/2). The output row of token (b,t) is b*ostride + ooff + t, so K/V can be written straight into
// a cache laid out (B, ostride, nh*hd).
template <typename T>
void rope_forward(T* out, const T* inp, const T* cs, const T* sn, int B, int Tn, int nh, int hd, int ostride,
                  int ooff) {
  int half = hd / 2;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < Tn; t++) {
      const T* c = cs + ((size_t)b * Tn + t) * half;
      const T* s = sn + ((size_t)b * Tn + t) * half;
      for (int h = 0; h < nh; h++) {
        const T* x = inp + (((size_t)b * Tn + t) * nh + h) * hd;
        T* y = out + (((size_t)b * ostride + ooff + t) * nh + h) * hd;
        for (int i = 0; i < half; i++) {
          T x1 = x[i], x2 = x[i + half];
          y[i] = x1 * c[i] - x2 * s[i];
          y[i + half] = x2 * c[i] + x1 * s[i];
        }
      }
    }
}
template <typename T>
void rope_backward(T* dinp, const T* dout, const T* cs, const T* sn, int B, int Tn, int nh, int hd, int ostride,
                   int ooff) {
  int half = hd / 2;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < Tn; t++) {
      const T* c = cs + ((size_t)b * Tn + t) * half;
      const T* s = sn + ((size_t)b * Tn + t) * half;
      for (int h = 0; h < nh; h++) {
        T* dx = dinp + (((size_t)b * Tn + t) * nh + h) * hd;
        const T* dy = dout + (((size_t)b * ostride + ooff + t) * nh + h) * hd;
        for (int i = 0; i < half; i++) {
          dx[i] += dy[i] * c[i] + dy[i + half] * s[i];
          dx[i + half] += -dy[i] * s[i] + dy[i + half] * c[i];
        }
      }
    }
}

// Multi-head attention with grouped K/V (MQA when KV = 1, plain MHA when KV = H).
//   q   (B, Tq, H*hd)          queries
//   k,v rows b*kstride + j, j < Tk, each (KV*hd): a cache holding [cached rows | this pass's rows]
//   mask (B, Tq, Tk), 1 = attend; null = attend to all
//   att (B, Tq, H, Tk)         softmax probabilities, saved for backward
//   out (B, Tq, H*hd)
// logits = q.k / sqrt(hd); masked logits are REPLACED by kMaskValue (finite), so an all-masked row is uniform.
template <typename T>
void attention_forward(T* out, T* att, const T* q, const T* k, const T* v, const uint8_t* mask, int B, int Tq,
                       int Tk, int kstride, int H, int KV, int hd) {
  const T scale = T(1) / std::sqrt(T(hd));
  const int group = H / KV;
  for (int b = 0; b < B; b++)
    for (int i = 0; i < Tq; i++)
      for (int h = 0; h < H; h++) {
        const T* qi = q + ((size_t)b * Tq + i) * H * hd + (size_t)h * hd;
        T* a = att + (((size_t)b * Tq + i) * H + h) * Tk;
        const uint8_t* mrow = mask ? mask + ((size_t)b * Tq + i) * Tk : nullptr;
        int kh = h / group;
        T mx = -std::numeric_limits<T>::infinity();
        for (int j = 0; j < Tk; j++) {
          T l;
          if (mrow && !mrow[j]) {
            l = T(kMaskValue);
          } else {
            const T* kj = k + ((size_t)b * kstride + j) * KV * hd + (size_t)kh * hd;
            l = 0;
            for (int d = 0; d < hd; d++) l += qi[d] * kj[d];
            l *= scale;
          }
          a[j] = l;
          if (l > mx) mx = l;
        }
        T sum = 0;
        for (int j = 0; j < Tk; j++) { a[j] = std::exp(a[j] - mx); sum += a[j]; }
        for (int j = 0; j < Tk; j++) a[j] /= sum;
        T* o = out + ((size_t)b * Tq + i) * H * hd + (size_t)h * hd;
        for (int d = 0; d < hd; d++) o[d] = 0;
        for (int j = 0; j < Tk; j++) {
          const T* vj = v + ((size_t)b * kstride + j) * KV * hd + (size_t)kh * hd;
          for (int d = 0; d < hd; d++) o[d] += a[j] * vj[d];
        }
      }
}

template <typename T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* att, const T* q, const T* k, const T* v,
                        const uint8_t* mask, int B, int Tq, int Tk, int kstride, int H, int KV, int hd) {
  const T scale = T(1) / std::sqrt(T(hd));
  const int group = H / KV;
  std::vector<T> da(Tk);
  for (int b = 0; b < B; b++)
    for (int i = 0; i < Tq; i++)
      for (int h = 0; h < H; h++) {
        const T* qi = q + ((size_t)b * Tq + i) * H * hd + (size_t)h * hd;
        T* dqi = dq + ((size_t)b * Tq + i) * H * hd + (size_t)h * hd;
        const T* dy = dout + ((size_t)b * Tq + i) * H * hd + (size_t)h * hd;
        const T* a = att + (((size_t)b * Tq + i) * H + h) * Tk;
        const uint8_t* mrow = mask ? mask + ((size_t)b * Tq + i) * Tk : nullptr;
        int kh = h / group;
        T dot = 0;
        for (int j = 0; j < Tk; j++) {
          const T* vj = v + ((size_t)b * kstride + j) * KV * hd + (size_t)kh * hd;
          T* dvj = dv + ((size_t)b * kstride + j) * KV * hd + (size_t)kh * hd;
          T s = 0;
          for (int d = 0; d < hd; d++) { s += dy[d] * vj[d]; dvj[d] += a[j] * dy[d]; }
          da[j] = s;
          dot += a[j] * s;
        }
        for (int j = 0; j < Tk; j++) {
          if (mrow && !mrow[j]) continue;  // where(): no gradient reaches q or k through a masked logit
          T dl = a[j] * (da[j] - dot) * scale;
          const T* kj = k + ((size_t)b * kstride + j) * KV * hd + (size_t)kh * hd;
          T* dkj = dk + ((size_t)b * kstride + j) * KV * hd + (size_t)kh * hd;
          for (int d = 0; d < hd; d++) { dqi[d] += dl * kj[d]; dkj[d] += dl * qi[d]; }
        }
      }
}

}  // namespace ref
}  // namespace riptide::pi0
