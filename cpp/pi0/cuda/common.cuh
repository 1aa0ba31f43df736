// Shared by the .cu files of the CUDA backend: error checks and block reductions.
#pragma once
#include <cuda_runtime.h>

namespace riptide::pi0::cuda {

void Check(cudaError_t e, const char* what);
// The stream every kernel and copy of this thread goes to (graphs can capture it; the legacy default stream cannot).
cudaStream_t Stream();
// After a launch: the launch error, then, unless a graph is being captured, completion (runtime.cu says why).
void Launched(const char* kernel);

// Element (r, k) of one product of a batch at p[r * sr + k * sk]; product z's starts at p + z * sb.
struct GemmView {
  const float* p;
  long long sr, sk, sb;
};
// C_z (M,N) = [beta C_z +] A_z (M,K) B_z (N,K)^T [+ bias] for z < batch, C_z = C + z * cb with row stride ldc, on
// the engine and precision set in cuda.h (gemm.cu). One of each view's strides must be 1; no bias with a batch.
void BatchedGemm(float* C, int ldc, long long cb, GemmView A, GemmView B, const float* bias, int M, int N, int K,
                 float beta, int batch);

// A grid-stride loop: i over [0, n) spread over every thread of the grid.
#define RIPTIDE_FOR_EACH(i, n)                                            \
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); \
       i += (size_t)gridDim.x * blockDim.x)

inline unsigned Blocks(size_t n, unsigned threads) {
  size_t b = (n + threads - 1) / threads;
  return (unsigned)(b < 65535 * 16 ? (b == 0 ? 1 : b) : 65535 * 16);
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the total. Fixed tree order,
// so the result is the same on every run.
// out[c] += sum over rows m < M of f(m, c), for c < C (parameter gradients: bias, norm weights). 256 threads: 32
// channels per block, 8 row lanes, summed in a fixed order.
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

template <typename T> __device__ T BlockSum(T x) {
  __shared__ T part[32];
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  __syncthreads();  // part[] may still be read by a previous call
  if (lane == 0) part[warp] = x;
  __syncthreads();
  x = lane < warps ? part[lane] : T(0);
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

template <typename T> __device__ T BlockMax(T x) {
  __shared__ T part[32];
  for (int o = 16; o > 0; o >>= 1) x = max(x, __shfl_xor_sync(0xffffffffu, x, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  __syncthreads();
  if (lane == 0) part[warp] = x;
  __syncthreads();
  x = lane < warps ? part[lane] : part[0];
  for (int o = 16; o > 0; o >>= 1) x = max(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

}  // namespace riptide::pi0::cuda
