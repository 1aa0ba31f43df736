// GEMMs of the CUDA backend: C (M,N) = [beta C +] sum_k A(i,k) B(j,k) [+ bias(j)], where A and B are strided views
// of fp32 memory, so the forward product and both backward products are one kernel with different strides:
//   forward   out  (M,N) = inp  (M,K) . w (N,K)^T      A = inp rows,       B = w rows
//   backward  dinp (M,K) += dout (M,N) . w (N,K)       A = dout rows,      B = w columns
//             dw   (N,K) += dout^T . inp               A = dout columns,   B = inp columns
// Tiles of 64 x 64 outputs, 32 deep, 128 threads. Gemm::Bf16 rounds the tiles to bf16 in shared memory and runs
// them on tensor cores (wmma 16x16x16, fp32 accumulate); Gemm::Fp32 multiplies in fp32 on the CUDA cores.
// Built with cuBLAS (RIPTIDE_HAVE_CUBLAS), the same products go to cublasGemmEx by default (GemmEngine::Cublas):
// bf16 tensor cores on the fp32 buffers (CUBLAS_COMPUTE_32F_FAST_16BF), or plain fp32.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <atomic>
#include <string>

#ifndef RIPTIDE_HAVE_CUBLAS
#define RIPTIDE_HAVE_CUBLAS 0
#endif
#if RIPTIDE_HAVE_CUBLAS
#include <cublas_v2.h>
#endif

#include "pi0/config.h"
#include "pi0/cuda/common.cuh"
#include "pi0/cuda/cuda.h"

namespace riptide::pi0::cuda {
namespace {

constexpr int BM = 64, BN = 64, BK = 32, kThreads = 128;

std::atomic<Gemm> g_gemm{Gemm::Bf16};
std::atomic<GemmEngine> g_engine{RIPTIDE_HAVE_CUBLAS ? GemmEngine::Cublas : GemmEngine::Own};

// Copies the (rows x BK) tile at (r0, k0) of a view into smem[r][k] (ld), zero outside (R, K). Consecutive threads
// walk the view's contiguous dimension, so global reads coalesce whichever way the view is strided.
template <typename S, int ROWS>
__device__ void LoadTile(S* smem, int ld, GemmView v, int r0, int k0, int R, int K) {
  const bool k_fast = v.sk == 1;
  for (int e = threadIdx.x; e < ROWS * BK; e += kThreads) {
    const int r = k_fast ? e / BK : e % ROWS, k = k_fast ? e % BK : e / ROWS;
    const int gr = r0 + r, gk = k0 + k;
    const float x = (gr < R && gk < K) ? v.p[gr * v.sr + gk * v.sk] : 0.f;
    smem[r * ld + k] = S(x);
  }
}

__device__ inline void Store(float* C, int ldc, const float* bias, float beta, int i, int j, float acc) {
  float out = acc + (bias ? bias[j] : 0.f);
  if (beta != 0.f) out += beta * C[(size_t)i * ldc + j];
  C[(size_t)i * ldc + j] = out;
}

__global__ void __launch_bounds__(kThreads) GemmBf16(float* C, int ldc, long long cb, GemmView A, GemmView B,
                                                     const float* bias, int M, int N, int K, float beta) {
  using namespace nvcuda;
  constexpr int LD = BK + 8, LDC = BN + 4;
  __shared__ __align__(32) __nv_bfloat16 As[BM * LD];
  __shared__ __align__(32) __nv_bfloat16 Bs[BN * LD];
  __shared__ __align__(32) float Cs[BM * LDC];
  A.p += blockIdx.z * A.sb, B.p += blockIdx.z * B.sb, C += blockIdx.z * cb;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN, warp = threadIdx.x / 32, wr = warp / 2, wc = warp % 2;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) wmma::fill_fragment(acc[a][b], 0.f);
  for (int k0 = 0; k0 < K; k0 += BK) {
    LoadTile<__nv_bfloat16, BM>(As, LD, A, m0, k0, M, K);
    LoadTile<__nv_bfloat16, BN>(Bs, LD, B, n0, k0, N, K);
    __syncthreads();
    for (int kk = 0; kk < BK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> fb[2];
      for (int a = 0; a < 2; a++) wmma::load_matrix_sync(fa[a], As + (wr * 32 + a * 16) * LD + kk, LD);
      for (int b = 0; b < 2; b++) wmma::load_matrix_sync(fb[b], Bs + (wc * 32 + b * 16) * LD + kk, LD);
      for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) wmma::mma_sync(acc[a][b], fa[a], fb[b], acc[a][b]);
    }
    __syncthreads();
  }
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++)
      wmma::store_matrix_sync(Cs + (wr * 32 + a * 16) * LDC + wc * 32 + b * 16, acc[a][b], LDC, wmma::mem_row_major);
  __syncthreads();
  for (int e = threadIdx.x; e < BM * BN; e += kThreads) {
    const int r = e / BN, c = e % BN, i = m0 + r, j = n0 + c;
    if (i < M && j < N) Store(C, ldc, bias, beta, i, j, Cs[r * LDC + c]);
  }
}

// Each thread owns 4 rows x 8 columns of the tile (columns strided by 8, so a warp's smem reads spread over banks).
__global__ void __launch_bounds__(kThreads) GemmFp32(float* C, int ldc, long long cb, GemmView A, GemmView B,
                                                     const float* bias, int M, int N, int K, float beta) {
  constexpr int LD = BK + 1;
  __shared__ float As[BM * LD];
  __shared__ float Bs[BN * LD];
  A.p += blockIdx.z * A.sb, B.p += blockIdx.z * B.sb, C += blockIdx.z * cb;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN, ty = threadIdx.x / 8, tx = threadIdx.x % 8;
  float acc[4][8] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
    LoadTile<float, BM>(As, LD, A, m0, k0, M, K);
    LoadTile<float, BN>(Bs, LD, B, n0, k0, N, K);
    __syncthreads();
    for (int k = 0; k < BK; k++) {
      float a[4], b[8];
      for (int r = 0; r < 4; r++) a[r] = As[(ty * 4 + r) * LD + k];
      for (int c = 0; c < 8; c++) b[c] = Bs[(tx + 8 * c) * LD + k];
      for (int r = 0; r < 4; r++)
        for (int c = 0; c < 8; c++) acc[r][c] += a[r] * b[c];
    }
    __syncthreads();
  }
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 8; c++) {
      const int i = m0 + ty * 4 + r, j = n0 + tx + 8 * c;
      if (i < M && j < N) Store(C, ldc, bias, beta, i, j, acc[r][c]);
    }
}

#if RIPTIDE_HAVE_CUBLAS
// C[i][j] = (accumulate ? C[i][j] : 0) + bias[j], before a cuBLAS product that adds into C.
__global__ void BiasRows(float* C, int ldc, const float* bias, int M, int N, bool accumulate) {
  RIPTIDE_FOR_EACH(e, (size_t)M * N) {
    const size_t i = e / N, j = e % N;
    C[i * ldc + j] = (accumulate ? C[i * ldc + j] : 0.f) + bias[j];
  }
}

void CheckBlas(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS) throw Pi0Error(std::string("cuBLAS: ") + what + ": " + cublasGetStatusString(st));
}

cublasHandle_t Blas() {  // per thread, on the thread's stream
  static thread_local cublasHandle_t h = [] {
    cublasHandle_t handle = nullptr;
    CheckBlas(cublasCreate(&handle), "cublasCreate");
    CheckBlas(cublasSetStream(handle, Stream()), "cublasSetStream");
    // its own workspace, so a product inside a graph capture never allocates
    constexpr size_t kWorkspace = size_t(32) << 20;
    void* ws = nullptr;
    Check(cudaMalloc(&ws, kWorkspace), "cudaMalloc (cuBLAS workspace)");
    CheckBlas(cublasSetWorkspace(handle, ws, kWorkspace), "cublasSetWorkspace");
    return handle;
  }();
  return h;
}

// Row-major C (M,N) = A (M,K) B(N,K)^T is column-major C^T (N,M) = B A^T: a view with a unit k stride is a
// row-major matrix (transposed for cuBLAS), one with a unit row stride a column-major one.
void RunCublas(float* C, int ldc, long long cb, GemmView A, GemmView B, const float* bias, int M, int N, int K,
               float beta, int batch) {
  if (bias) {
    BiasRows<<<Blocks((size_t)M * N, 256), 256, 0, Stream()>>>(C, ldc, bias, M, N, beta != 0.f);
    Launched("gemm bias");
    beta = 1.f;
  }
  const bool b_rows = B.sk == 1, a_rows = A.sk == 1;
  const int ldb = int(b_rows ? B.sr : B.sk), lda = int(a_rows ? A.sr : A.sk);
  const float alpha = 1.f;
  const bool bf16 = g_gemm == Gemm::Bf16;
  const cublasOperation_t tb = b_rows ? CUBLAS_OP_T : CUBLAS_OP_N, ta = a_rows ? CUBLAS_OP_N : CUBLAS_OP_T;
  const cublasComputeType_t compute = bf16 ? CUBLAS_COMPUTE_32F_FAST_16BF : CUBLAS_COMPUTE_32F;
  if (batch == 1)
    CheckBlas(cublasGemmEx(Blas(), tb, ta, N, M, K, &alpha, B.p, CUDA_R_32F, ldb, A.p, CUDA_R_32F, lda, &beta, C,
                           CUDA_R_32F, ldc, compute, CUBLAS_GEMM_DEFAULT),
              "cublasGemmEx");
  else
    CheckBlas(cublasGemmStridedBatchedEx(Blas(), tb, ta, N, M, K, &alpha, B.p, CUDA_R_32F, ldb, B.sb, A.p, CUDA_R_32F,
                                         lda, A.sb, &beta, C, CUDA_R_32F, ldc, cb, batch, compute, CUBLAS_GEMM_DEFAULT),
              "cublasGemmStridedBatchedEx");
  Launched(bf16 ? "cuBLAS gemm (bf16 tensor cores)" : "cuBLAS gemm (fp32)");
}
#endif

void Run(float* C, int ldc, long long cb, GemmView A, GemmView B, const float* bias, int M, int N, int K, float beta,
         int batch) {
  if (M <= 0 || N <= 0 || batch <= 0) return;
  if (bias && batch > 1) throw Pi0Error("gemm: a bias with a batch of products is not supported");
#if RIPTIDE_HAVE_CUBLAS
  if (g_engine == GemmEngine::Cublas) return RunCublas(C, ldc, cb, A, B, bias, M, N, K, beta, batch);
#endif
  dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM, batch);
  if (g_gemm == Gemm::Bf16) GemmBf16<<<grid, kThreads, 0, Stream()>>>(C, ldc, cb, A, B, bias, M, N, K, beta);
  else GemmFp32<<<grid, kThreads, 0, Stream()>>>(C, ldc, cb, A, B, bias, M, N, K, beta);
  Launched(g_gemm == Gemm::Bf16 ? "gemm (bf16 tensor cores)" : "gemm (fp32)");
}

}  // namespace

void SetGemm(Gemm g) { g_gemm = g; }
Gemm GetGemm() { return g_gemm; }
void SetGemmEngine(GemmEngine e) {
  if (e == GemmEngine::Cublas && !RIPTIDE_HAVE_CUBLAS) throw Pi0Error("this build has no cuBLAS (rebuild with it found)");
  g_engine = e;
}
GemmEngine GetGemmEngine() { return g_engine; }

void BatchedGemm(float* C, int ldc, long long cb, GemmView A, GemmView B, const float* bias, int M, int N, int K,
                 float beta, int batch) {
  Run(C, ldc, cb, A, B, bias, M, N, K, beta, batch);
}

void matmul_forward(float* out, const float* inp, const float* w, const float* bias, int M, int K, int N,
                    bool accumulate) {
  Run(out, N, 0, GemmView{inp, K, 1}, GemmView{w, K, 1}, bias, M, N, K, accumulate ? 1.f : 0.f, 1);
}

void matmul_backward(float* dinp, float* dw, float* dbias, const float* dout, const float* inp, const float* w,
                     int M, int K, int N) {
  if (dinp) Run(dinp, K, 0, GemmView{dout, N, 1}, GemmView{w, 1, K}, nullptr, M, K, N, 1.f, 1);
  if (dw) Run(dw, K, 0, GemmView{dout, 1, N}, GemmView{inp, 1, K}, nullptr, N, K, M, 1.f, 1);
  if (dbias) {
    auto column = [=] __device__(int m, int j) { return dout[(size_t)m * N + j]; };  // dbias: column sums of dout
    ChannelSum<<<(N + 31) / 32, 256, 0, Stream()>>>(dbias, M, N, column);
    Launched("matmul bias gradient");
  }
}

}  // namespace riptide::pi0::cuda
