// Kernels for the suffix tokens and the flow sampler (cuda.h): the pieces of action_tokens_forward, head_forward
// and the Euler loop that run as host loops on the CPU, so that a whole flow step is device work and can be
// captured in a CUDA graph. Element-wise, one thread per output; the cfg-embedding gradient is a column sum.
#include <cuda_runtime.h>

#include <cmath>

#include "pi0/cuda/common.cuh"
#include "pi0/cuda/cuda.h"

namespace riptide::pi0::cuda {
namespace {

__global__ void SiluFwd(float* out, const float* in, size_t n) {
  RIPTIDE_FOR_EACH(i, n) out[i] = in[i] / (1.f + expf(-in[i]));
}
__global__ void SiluBwd(float* din, const float* dout, const float* in, size_t n) {
  RIPTIDE_FOR_EACH(i, n) {
    const float s = 1.f / (1.f + expf(-in[i]));
    din[i] += dout[i] * s * (1.f + in[i] * (1.f - s));
  }
}
__global__ void AddInto(float* dst, const float* src, size_t n) { RIPTIDE_FOR_EACH(i, n) dst[i] += src[i]; }

// TimeEmbedding (model.cc) for one t on every row, in double as the CPU computes it, then cast.
__global__ void TimeEmb(float* out, double t, int rows, int dim) {
  const int K = dim / 2;
  RIPTIDE_FOR_EACH(e, (size_t)rows * K) {
    const int k = e % K, r = e / K;
    const double frac = K > 1 ? double(k) / (K - 1) : 0.0, period = 4e-3 * pow(4.0 / 4e-3, frac);
    const double arg = t * 2.0 * 3.141592653589793 / period;
    out[(size_t)r * dim + k] = float(sin(arg));
    out[(size_t)r * dim + K + k] = float(cos(arg));
  }
}

// fuse_in row r = [ain row r | temb row r / per_seq]
__global__ void ConcatTime(float* f, const float* ain, const float* temb, int rows, int per_seq, int D) {
  RIPTIDE_FOR_EACH(e, (size_t)rows * 2 * D) {
    const size_t r = e / (2 * D);
    const int c = e % (2 * D);
    f[e] = c < D ? ain[r * D + c] : temb[(r / per_seq) * D + (c - D)];
  }
}

__global__ void AddCfgRows(float* act, const float* cfg, const int* idx, int rows, int per_seq, int D) {
  RIPTIDE_FOR_EACH(e, (size_t)rows * D) {
    const size_t r = e / D;
    act[e] += cfg[(size_t)idx[r / per_seq] * D + e % D];
  }
}

// g_cfg[k][d] += sum over rows whose sequence has cfg index k of dact[row][d] (k in {0, 1}), in row order.
__global__ void CfgGrad(float* gcfg, const float* dact, const int* idx, int rows, int per_seq, int D) {
  RIPTIDE_FOR_EACH(e, (size_t)2 * D) {
    const int k = e / D, d = e % D;
    float s = 0.f;
    for (int r = 0; r < rows; r++)
      if (idx[r / per_seq] == k) s += dact[(size_t)r * D + d];
    gcfg[e] += s;
  }
}

__global__ void BroadcastRows(float* xt, const float* x, int B, size_t per, size_t n) {
  RIPTIDE_FOR_EACH(i, n) {
    const size_t bq = i / per;
    xt[i] = x[(bq % B) * per + i % per];
  }
}

// x += dt * v, v = v_uncond + s (v_cond - v_uncond) when guided (v holds the B conditional rows, then B unconditional)
__global__ void Euler(float* x, const float* v, size_t n, bool guided, float s, float dt) {
  RIPTIDE_FOR_EACH(i, n) {
    const float vp = v[i];
    x[i] += dt * (guided ? v[n + i] + s * (vp - v[n + i]) : vp);
  }
}

}  // namespace

void silu_forward(float* out, const float* inp, size_t n) {
  SiluFwd<<<Blocks(n, 256), 256, 0, Stream()>>>(out, inp, n);
  Launched("silu forward");
}
void silu_backward(float* dinp, const float* dout, const float* inp, size_t n) {
  SiluBwd<<<Blocks(n, 256), 256, 0, Stream()>>>(dinp, dout, inp, n);
  Launched("silu backward");
}
void add_into(float* dst, const float* src, size_t n) {
  AddInto<<<Blocks(n, 256), 256, 0, Stream()>>>(dst, src, n);
  Launched("add");
}
void time_embedding(float* out, double t, int rows, int dim) {
  TimeEmb<<<Blocks((size_t)rows * (dim / 2), 256), 256, 0, Stream()>>>(out, t, rows, dim);
  Launched("time embedding");
}
void concat_time(float* fuse_in, const float* ain, const float* temb, int rows, int per_seq, int D) {
  ConcatTime<<<Blocks((size_t)rows * 2 * D, 256), 256, 0, Stream()>>>(fuse_in, ain, temb, rows, per_seq, D);
  Launched("concat action and time");
}
void add_cfg_rows(float* act_tok, const float* cfg, const int* cfg_idx, int rows, int per_seq, int D) {
  AddCfgRows<<<Blocks((size_t)rows * D, 256), 256, 0, Stream()>>>(act_tok, cfg, cfg_idx, rows, per_seq, D);
  Launched("cfg embedding rows");
}
void cfg_grad(float* gcfg, const float* dact, const int* cfg_idx, int rows, int per_seq, int D) {
  CfgGrad<<<Blocks((size_t)2 * D, 128), 128, 0, Stream()>>>(gcfg, dact, cfg_idx, rows, per_seq, D);
  Launched("cfg embedding gradient");
}
void broadcast_rows(float* xt, const float* x, int B, int Bq, size_t per) {
  BroadcastRows<<<Blocks((size_t)Bq * per, 256), 256, 0, Stream()>>>(xt, x, B, per, (size_t)Bq * per);
  Launched("broadcast x_t");
}
void euler_step(float* x, const float* v, size_t n, bool guided, float cfg_scale, float dt) {
  Euler<<<Blocks(n, 256), 256, 0, Stream()>>>(x, v, n, guided, cfg_scale, dt);
  Launched("euler step");
}

}  // namespace riptide::pi0::cuda
