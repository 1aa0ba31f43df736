// The two OpenBLAS entry points cpp/pi0/fast.cc calls, for building cpp/dev/cuda-check on a machine without
// OpenBLAS (gpu.sh uses it only then). Same names, values and argument order as OpenBLAS's cblas.h.
#pragma once
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };
void cblas_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                 const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);
void openblas_set_num_threads(int n);
