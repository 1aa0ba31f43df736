// Fast CPU PI0 kernels (float only): OpenBLAS sgemm for every matrix product (attention included, batch*tokens
// stacked into rows), and the elementwise/norm kernels split over rows across a small thread pool.
// Threading: ONE pool does all of it. OpenBLAS runs single-threaded inside pool threads (each GEMM is split into
// row or column blocks with no reduction), because OpenBLAS's own idle threads spin in sched_yield and steal the
// cores our elementwise kernels need (measured: ~18% of a small-preset step).
// Same signatures and accumulate (+=) semantics as the reference in layers.h, which they are tested against.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace riptide::pi0 {

// parallel_for over [0, n) split into one contiguous chunk per thread; the caller runs chunk 0.
class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  int size() const { return static_cast<int>(workers_.size()) + 1; }
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn);

 private:
  void loop(int id);
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(size_t, size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

// How a model runs its kernels: the reference loops, the fast path on `pool`, or (cuda) the CUDA kernels on
// managed memory (cuda/cuda.h; host loops still use the pool).
struct Exec {
  bool fast = false;
  ThreadPool* pool = nullptr;
  bool cuda = false;
};

// Sets OpenBLAS's thread count (process-wide).
void SetBlasThreads(int n);
// Times n x n x n sgemm `repeats` times with OpenBLAS's own threads (one per core) and returns GFLOP/s; leaves
// OpenBLAS single-threaded afterwards, as the model needs it.
double SgemmGflops(int n, int repeats);

namespace fast {

void matmul_forward(ThreadPool& p, float* out, const float* inp, const float* w, const float* bias, int M, int K,
                    int N, bool accumulate = false);
void matmul_backward(ThreadPool& p, float* dinp, float* dw, float* dbias, const float* dout, const float* inp,
                     const float* w, int M, int K, int N);
void layernorm_forward(ThreadPool& p, float* out, float* mean, float* rstd, const float* inp, const float* w,
                       const float* b, int M, int C);
void layernorm_backward(ThreadPool& p, float* dinp, float* dw, float* db, const float* dout, const float* inp,
                        const float* w, const float* mean, const float* rstd, int M, int C);
void rmsnorm_forward(ThreadPool& p, float* out, float* rstd, const float* inp, const float* w, int M, int C);
void rmsnorm_backward(ThreadPool& p, float* dinp, float* dw, const float* dout, const float* inp, const float* w,
                      const float* rstd, int M, int C);
void gelu_forward(ThreadPool& p, float* out, const float* inp, size_t n);
void gelu_backward(ThreadPool& p, float* dinp, const float* dout, const float* inp, size_t n);
void geglu_forward(ThreadPool& p, float* h, const float* gate, const float* up, size_t n);
void geglu_backward(ThreadPool& p, float* dgate, float* dup, const float* dh, const float* gate, const float* up,
                    size_t n);
void rope_forward(ThreadPool& p, float* out, const float* inp, const float* cs, const float* sn, int B, int Tn,
                  int nh, int hd, int ostride, int ooff);
void rope_backward(ThreadPool& p, float* dinp, const float* dout, const float* cs, const float* sn, int B, int Tn,
                   int nh, int hd, int ostride, int ooff);
void attention_forward(ThreadPool& p, float* out, float* att, const float* q, const float* k, const float* v,
                       const uint8_t* mask, int B, int Tq, int Tk, int kstride, int H, int KV, int hd);
// scratch: at least B*Tq*H*Tk floats
void attention_backward(ThreadPool& p, float* dq, float* dk, float* dv, float* scratch, const float* dout,
                        const float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                        int B, int Tq, int Tk, int kstride, int H, int KV, int hd);

}  // namespace fast
}  // namespace riptide::pi0
