// Op dispatch shared by the models in cpp/pi0 (Pi0, ValueModel): each op runs the reference loops (layers.h) for
// double and for float on the reference path, the fast kernels (fast.h) for float on the fast path, and the CUDA
// kernels (cuda/cuda.h) for float on a CUDA model.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "pi0/cuda/cuda.h"
#include "pi0/fast.h"
#include "pi0/layers.h"

// On a CUDA model (Exec::cuda) the float ops run the kernels of cuda/ instead.
#if RIPTIDE_HAVE_CUDA
#define RIPTIDE_ON_CUDA(ex, call) \
  if ((ex).cuda) return cuda::call
#else
#define RIPTIDE_ON_CUDA(ex, call) (void)0
#endif

namespace riptide::pi0::ops {

template <typename T>
void mm_fwd(const Exec&, T* out, const T* in, const T* w, const T* b, int M, int K, int N, bool acc = false) {
  ref::matmul_forward(out, in, w, b, M, K, N, acc);
}
template <>
inline void mm_fwd<float>(const Exec& ex, float* out, const float* in, const float* w, const float* b, int M, int K, int N,
                   bool acc) {
  RIPTIDE_ON_CUDA(ex, matmul_forward(out, in, w, b, M, K, N, acc));
  if (ex.fast) fast::matmul_forward(*ex.pool, out, in, w, b, M, K, N, acc);
  else ref::matmul_forward(out, in, w, b, M, K, N, acc);
}
template <typename T>
void mm_bwd(const Exec&, T* din, T* dw, T* db, const T* dout, const T* in, const T* w, int M, int K, int N) {
  ref::matmul_backward(din, dw, db, dout, in, w, M, K, N);
}
template <>
inline void mm_bwd<float>(const Exec& ex, float* din, float* dw, float* db, const float* dout, const float* in,
                   const float* w, int M, int K, int N) {
  RIPTIDE_ON_CUDA(ex, matmul_backward(din, dw, db, dout, in, w, M, K, N));
  if (ex.fast) fast::matmul_backward(*ex.pool, din, dw, db, dout, in, w, M, K, N);
  else ref::matmul_backward(din, dw, db, dout, in, w, M, K, N);
}
template <typename T>
void ln_fwd(const Exec&, T* out, T* mean, T* rstd, const T* in, const T* w, const T* b, int M, int C) {
  ref::layernorm_forward(out, mean, rstd, in, w, b, M, C);
}
template <>
inline void ln_fwd<float>(const Exec& ex, float* out, float* mean, float* rstd, const float* in, const float* w,
                   const float* b, int M, int C) {
  RIPTIDE_ON_CUDA(ex, layernorm_forward(out, mean, rstd, in, w, b, M, C));
  if (ex.fast) fast::layernorm_forward(*ex.pool, out, mean, rstd, in, w, b, M, C);
  else ref::layernorm_forward(out, mean, rstd, in, w, b, M, C);
}
template <typename T>
void ln_bwd(const Exec&, T* din, T* dw, T* db, const T* dout, const T* in, const T* w, const T* mean,
            const T* rstd, int M, int C) {
  ref::layernorm_backward(din, dw, db, dout, in, w, mean, rstd, M, C);
}
template <>
inline void ln_bwd<float>(const Exec& ex, float* din, float* dw, float* db, const float* dout, const float* in,
                   const float* w, const float* mean, const float* rstd, int M, int C) {
  RIPTIDE_ON_CUDA(ex, layernorm_backward(din, dw, db, dout, in, w, mean, rstd, M, C));
  if (ex.fast) fast::layernorm_backward(*ex.pool, din, dw, db, dout, in, w, mean, rstd, M, C);
  else ref::layernorm_backward(din, dw, db, dout, in, w, mean, rstd, M, C);
}
template <typename T> void rms_fwd(const Exec&, T* out, T* rstd, const T* in, const T* w, int M, int C) {
  ref::rmsnorm_forward(out, rstd, in, w, M, C);
}
template <>
inline void rms_fwd<float>(const Exec& ex, float* out, float* rstd, const float* in, const float* w, int M, int C) {
  RIPTIDE_ON_CUDA(ex, rmsnorm_forward(out, rstd, in, w, M, C));
  if (ex.fast) fast::rmsnorm_forward(*ex.pool, out, rstd, in, w, M, C);
  else ref::rmsnorm_forward(out, rstd, in, w, M, C);
}
template <typename T>
void rms_bwd(const Exec&, T* din, T* dw, const T* dout, const T* in, const T* w, const T* rstd, int M, int C) {
  ref::rmsnorm_backward(din, dw, dout, in, w, rstd, M, C);
}
template <>
inline void rms_bwd<float>(const Exec& ex, float* din, float* dw, const float* dout, const float* in, const float* w,
                    const float* rstd, int M, int C) {
  RIPTIDE_ON_CUDA(ex, rmsnorm_backward(din, dw, dout, in, w, rstd, M, C));
  if (ex.fast) fast::rmsnorm_backward(*ex.pool, din, dw, dout, in, w, rstd, M, C);
  else ref::rmsnorm_backward(din, dw, dout, in, w, rstd, M, C);
}
template <typename T> void gelu_fwd(const Exec&, T* out, const T* in, size_t n) { ref::gelu_forward(out, in, n); }
template <> inline void gelu_fwd<float>(const Exec& ex, float* out, const float* in, size_t n) {
  RIPTIDE_ON_CUDA(ex, gelu_forward(out, in, n));
  if (ex.fast) fast::gelu_forward(*ex.pool, out, in, n);
  else ref::gelu_forward(out, in, n);
}
template <typename T> void gelu_bwd(const Exec&, T* din, const T* dout, const T* in, size_t n) {
  ref::gelu_backward(din, dout, in, n);
}
template <> inline void gelu_bwd<float>(const Exec& ex, float* din, const float* dout, const float* in, size_t n) {
  RIPTIDE_ON_CUDA(ex, gelu_backward(din, dout, in, n));
  if (ex.fast) fast::gelu_backward(*ex.pool, din, dout, in, n);
  else ref::gelu_backward(din, dout, in, n);
}
template <typename T> void geglu_fwd(const Exec&, T* h, const T* g, const T* u, size_t n) {
  ref::geglu_forward(h, g, u, n);
}
template <> inline void geglu_fwd<float>(const Exec& ex, float* h, const float* g, const float* u, size_t n) {
  RIPTIDE_ON_CUDA(ex, geglu_forward(h, g, u, n));
  if (ex.fast) fast::geglu_forward(*ex.pool, h, g, u, n);
  else ref::geglu_forward(h, g, u, n);
}
template <typename T>
void geglu_bwd(const Exec&, T* dg, T* du, const T* dh, const T* g, const T* u, size_t n) {
  ref::geglu_backward(dg, du, dh, g, u, n);
}
template <>
inline void geglu_bwd<float>(const Exec& ex, float* dg, float* du, const float* dh, const float* g, const float* u,
                      size_t n) {
  RIPTIDE_ON_CUDA(ex, geglu_backward(dg, du, dh, g, u, n));
  if (ex.fast) fast::geglu_backward(*ex.pool, dg, du, dh, g, u, n);
  else ref::geglu_backward(dg, du, dh, g, u, n);
}
template <typename T>
void rope_fwd(const Exec&, T* out, const T* in, const T* cs, const T* sn, int B, int Tn, int nh, int hd, int os,
              int oo) {
  ref::rope_forward(out, in, cs, sn, B, Tn, nh, hd, os, oo);
}
template <>
inline void rope_fwd<float>(const Exec& ex, float* out, const float* in, const float* cs, const float* sn, int B, int Tn,
                     int nh, int hd, int os, int oo) {
  RIPTIDE_ON_CUDA(ex, rope_forward(out, in, cs, sn, B, Tn, nh, hd, os, oo));
  if (ex.fast) fast::rope_forward(*ex.pool, out, in, cs, sn, B, Tn, nh, hd, os, oo);
  else ref::rope_forward(out, in, cs, sn, B, Tn, nh, hd, os, oo);
}
template <typename T>
void rope_bwd(const Exec&, T* din, const T* dout, const T* cs, const T* sn, int B, int Tn, int nh, int hd, int os,
              int oo) {
  ref::rope_backward(din, dout, cs, sn, B, Tn, nh, hd, os, oo);
}
template <>
inline void rope_bwd<float>(const Exec& ex, float* din, const float* dout, const float* cs, const float* sn, int B, int Tn,
                     int nh, int hd, int os, int oo) {
  RIPTIDE_ON_CUDA(ex, rope_backward(din, dout, cs, sn, B, Tn, nh, hd, os, oo));
  if (ex.fast) fast::rope_backward(*ex.pool, din, dout, cs, sn, B, Tn, nh, hd, os, oo);
  else ref::rope_backward(din, dout, cs, sn, B, Tn, nh, hd, os, oo);
}
template <typename T>
void attn_fwd(const Exec&, T* out, T* att, const T* q, const T* k, const T* v, const uint8_t* mask, int B, int Tq,
              int Tk, int ks, int H, int KV, int hd) {
  ref::attention_forward(out, att, q, k, v, mask, B, Tq, Tk, ks, H, KV, hd);
}
template <>
inline void attn_fwd<float>(const Exec& ex, float* out, float* att, const float* q, const float* k, const float* v,
                     const uint8_t* mask, int B, int Tq, int Tk, int ks, int H, int KV, int hd) {
  RIPTIDE_ON_CUDA(ex, attention_forward(out, att, q, k, v, mask, B, Tq, Tk, ks, H, KV, hd));
  if (ex.fast) fast::attention_forward(*ex.pool, out, att, q, k, v, mask, B, Tq, Tk, ks, H, KV, hd);
  else ref::attention_forward(out, att, q, k, v, mask, B, Tq, Tk, ks, H, KV, hd);
}
template <typename T>
void attn_bwd(const Exec&, T* dq, T* dk, T* dv, T*, const T* dout, const T* att, const T* q, const T* k,
              const T* v, const uint8_t* mask, int B, int Tq, int Tk, int ks, int H, int KV, int hd) {
  ref::attention_backward(dq, dk, dv, dout, att, q, k, v, mask, B, Tq, Tk, ks, H, KV, hd);
}
template <>
inline void attn_bwd<float>(const Exec& ex, float* dq, float* dk, float* dv, float* scratch, const float* dout,
                     const float* att, const float* q, const float* k, const float* v, const uint8_t* mask, int B,
                     int Tq, int Tk, int ks, int H, int KV, int hd) {
  RIPTIDE_ON_CUDA(ex, attention_backward(dq, dk, dv, scratch, dout, att, q, k, v, mask, B, Tq, Tk, ks, H, KV, hd));
  if (ex.fast) fast::attention_backward(*ex.pool, dq, dk, dv, scratch, dout, att, q, k, v, mask, B, Tq, Tk, ks, H, KV, hd);
  else ref::attention_backward(dq, dk, dv, dout, att, q, k, v, mask, B, Tq, Tk, ks, H, KV, hd);
}

template <typename V> void zero(const Exec& ex, V& v) {
#if RIPTIDE_HAVE_CUDA
  if (ex.cuda) return cuda::Zero(v.data(), v.size() * sizeof(typename V::value_type));
#endif
  std::fill(v.begin(), v.end(), typename V::value_type(0));
}
// dst[0..n) = src[0..n) (the residual stream and K/V copies between layers): a device copy on a CUDA model.
template <typename T> void copy(const Exec& ex, T* dst, const T* src, size_t n) {
#if RIPTIDE_HAVE_CUDA
  if (ex.cuda) return cuda::Copy(dst, src, n * sizeof(T));
#endif
  std::copy(src, src + n, dst);
}
// rows x width values from src (row stride src_stride) to dst (row stride dst_stride).
template <typename T>
void copy_rows(const Exec& ex, T* dst, size_t dst_stride, const T* src, size_t src_stride, size_t width, size_t rows) {
#if RIPTIDE_HAVE_CUDA
  if (ex.cuda) return cuda::Copy2D(dst, dst_stride * sizeof(T), src, src_stride * sizeof(T), width * sizeof(T), rows);
#endif
  for (size_t r = 0; r < rows; r++) std::copy(src + r * src_stride, src + r * src_stride + width, dst + r * dst_stride);
}
// dst[0..n) += src[0..n)
template <typename T> void add_into(const Exec& ex, T* dst, const T* src, size_t n) {
  if constexpr (std::is_same_v<T, float>) RIPTIDE_ON_CUDA(ex, add_into(dst, src, n));
  for (size_t i = 0; i < n; i++) dst[i] += src[i];
}
template <typename T> void silu_fwd(const Exec& ex, T* out, const T* in, size_t n) {
  if constexpr (std::is_same_v<T, float>) RIPTIDE_ON_CUDA(ex, silu_forward(out, in, n));
  ref::silu_forward(out, in, n);
}
template <typename T> void silu_bwd(const Exec& ex, T* din, const T* dout, const T* in, size_t n) {
  if constexpr (std::is_same_v<T, float>) RIPTIDE_ON_CUDA(ex, silu_backward(din, dout, in, n));
  ref::silu_backward(din, dout, in, n);
}
template <typename V> void resize(V& v, size_t n) {
  if (v.size() != n) v.assign(n, typename V::value_type(0));
}

}  // namespace riptide::pi0::ops
