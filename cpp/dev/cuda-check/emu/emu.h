// A CPU emulator for the CUDA subset cpp/pi0/cuda uses, so the kernels' index arithmetic, block reductions and
// tiling can be run and checked on a machine with no GPU (emulator.sh builds it; see README.md here). Each launch runs
// its blocks one after another, and the threads of a block as real std::threads meeting at a std::barrier for
// __syncthreads; __shared__ becomes `static` (one block at a time, so one copy is enough). Warp shuffles exchange
// through a per-block array between two barriers, so they need every thread of the block to take part (true of
// BlockSum/BlockMax). wmma fragments hold the whole 16x16 tile in every thread and compute it in fp32, which is
// what the tensor cores compute for bf16 inputs with fp32 accumulation. What this cannot tell: speed, memory
// behaviour, races between blocks, and whether the hardware's wmma layouts are as documented.
#pragma once
#include <algorithm>
#include <barrier>
#include <condition_variable>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static

using std::max;
using std::min;

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

using cudaStream_t = void*;

namespace emu {
// While a graph is captured (runtime.cc), launches and copies are recorded here instead of run, their arguments
// copied as CUDA copies kernel parameters; Replay runs the records in order.
inline std::vector<std::function<void()>>* capturing = nullptr;

struct ThreadState {
  dim3 tid, bid, bdim, gdim;
  std::barrier<>* barrier = nullptr;
  double* exchange = nullptr;  // one slot per thread of the block
};
inline thread_local ThreadState tl;
}  // namespace emu

#define threadIdx (::emu::tl.tid)
#define blockIdx (::emu::tl.bid)
#define blockDim (::emu::tl.bdim)
#define gridDim (::emu::tl.gdim)

inline void __syncthreads() { emu::tl.barrier->arrive_and_wait(); }

template <typename T> T __shfl_xor_sync(unsigned, T x, int lane_mask) {
  const unsigned n = blockDim.x * blockDim.y * blockDim.z;
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  static_assert(sizeof(T) <= sizeof(double));
  std::memcpy(&emu::tl.exchange[t], &x, sizeof(T));
  __syncthreads();
  const unsigned src = (t & ~31u) | ((t & 31u) ^ unsigned(lane_mask));
  T y = x;
  if (src < n) std::memcpy(&y, &emu::tl.exchange[src], sizeof(T));
  __syncthreads();
  return y;
}

inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }

namespace emu {
// Threads that outlive launches (creating a block's threads per launch dominated the run time): run(n, f) calls
// f(0..n-1) on n of them and returns when all are done. Never destroyed; the process exits with them parked.
class Pool {
 public:
  static Pool& get() {
    static Pool* p = new Pool;
    return *p;
  }
  void run(unsigned n, const std::function<void(unsigned)>& f) {
    std::unique_lock<std::mutex> lk(mu_);
    while (threads_ < n) std::thread([this, id = threads_++] { loop(id); }).detach();
    job_ = &f;
    active_ = n;
    done_ = 0;
    gen_++;
    start_.notify_all();
    done_cv_.wait(lk, [&] { return done_ == active_; });
  }

 private:
  void loop(unsigned id) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      start_.wait(lk, [&] { return gen_ != seen; });
      seen = gen_;
      if (id >= active_) continue;
      const auto* job = job_;
      lk.unlock();
      (*job)(id);
      lk.lock();
      if (++done_ == active_) done_cv_.notify_one();
    }
  }
  std::mutex mu_;
  std::condition_variable start_, done_cv_;
  const std::function<void(unsigned)>* job_ = nullptr;
  unsigned threads_ = 0, active_ = 0, done_ = 0;
  uint64_t gen_ = 0;
};

// Runs every block of the grid in order, each with blockDim threads.
template <typename K, typename... A> void RunGrid(dim3 grid, dim3 block, const K& kernel, const A&... args) {
  const unsigned n = block.x * block.y * block.z;
  std::barrier<> bar((std::ptrdiff_t)n);
  std::vector<double> exchange(n);
  Pool::get().run(n, [&](unsigned t) {
    tl.tid = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
    tl.bdim = block;
    tl.gdim = grid;
    tl.barrier = &bar;
    tl.exchange = exchange.data();
    for (unsigned z = 0; z < grid.z; z++)
      for (unsigned y = 0; y < grid.y; y++)
        for (unsigned x = 0; x < grid.x; x++) {
          tl.bid = dim3(x, y, z);
          kernel(args...);
          bar.arrive_and_wait();  // the next block reuses the block's static shared memory
        }
  });
}

// A launch: run now, or recorded while a graph is captured.
struct Launcher {
  dim3 grid, block;
  Launcher(dim3 g, dim3 b, size_t = 0, cudaStream_t = nullptr) : grid(g), block(b) {}
  template <typename K> auto bind(K kernel) const {
    return [grid = grid, block = block, kernel](auto... args) {
      if (capturing) capturing->push_back([=] { RunGrid(grid, block, kernel, args...); });
      else RunGrid(grid, block, kernel, args...);
    };
  }
};
}  // namespace emu

// emulator.sh rewrites `Kernel<<<grid, block, smem, stream>>>(args)` into `EMU_LAUNCH(Kernel, grid, block)(args)`.
#define EMU_LAUNCH(kernel, ...) ::emu::Launcher(__VA_ARGS__).bind([](auto... a) { kernel(a...); })

// ---- the runtime API surface the .cu files name ----
enum cudaError_t { cudaSuccess = 0 };
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline const char* cudaGetErrorName(cudaError_t) { return "cudaSuccess"; }
inline const char* cudaGetErrorString(cudaError_t) { return "no error"; }

// ---- bf16: round to nearest even on conversion from float ----
struct __nv_bfloat16 {
  uint16_t bits = 0;
  __nv_bfloat16() = default;
  __nv_bfloat16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    bits = uint16_t(u >> 16);
  }
  operator float() const {
    uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

// ---- wmma: the whole 16x16 tile in every thread ----
namespace nvcuda::wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void> struct fragment {
  float x[16 * 16] = {};
};

template <typename F> void fill_fragment(F& f, float v) { std::fill(std::begin(f.x), std::end(f.x), v); }

// Element (r, c) of the fragment's matrix (A: rows x K, B: K x cols) from memory in the fragment's layout.
template <typename Use, typename T, typename L>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, L>& f, const T* p, unsigned ldm) {
  for (int r = 0; r < 16; r++)
    for (int c = 0; c < 16; c++)
      f.x[r * 16 + c] = float(std::is_same_v<L, row_major> ? p[r * ldm + c] : p[r + c * ldm]);
}

template <typename TA, typename LA, typename TB, typename LB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, TA, LA>& a,
              const fragment<matrix_b, 16, 16, 16, TB, LB>& b, const fragment<accumulator, 16, 16, 16, float>& c) {
  float out[256];
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) {
      float s = c.x[i * 16 + j];
      for (int k = 0; k < 16; k++) s += a.x[i * 16 + k] * b.x[k * 16 + j];
      out[i * 16 + j] = s;
    }
  std::copy(out, out + 256, d.x);
}

inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ldm, layout_t l) {
  for (int r = 0; r < 16; r++)
    for (int c = 0; c < 16; c++) (l == mem_row_major ? p[r * ldm + c] : p[r + c * ldm]) = f.x[r * 16 + c];
}
}  // namespace nvcuda::wmma
