// Plain-loop sgemm (row major only, as fast.cc calls it) for cpp/dev/cuda-check on a machine without OpenBLAS.
#include "cblas.h"

#include <stdexcept>

void cblas_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                 const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  if (order != CblasRowMajor) throw std::logic_error("cblas_sgemm: row major only");
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = 0;
      for (int k = 0; k < K; k++) {
        const float a = ta == CblasNoTrans ? A[i * lda + k] : A[k * lda + i];
        const float b = tb == CblasNoTrans ? B[k * ldb + j] : B[j * ldb + k];
        s += a * b;
      }
      C[i * ldc + j] = alpha * s + (beta == 0.f ? 0.f : beta * C[i * ldc + j]);
    }
}

void openblas_set_num_threads(int) {}
