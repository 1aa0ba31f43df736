// The CUDA backend of the PI0 kernels: the ops of fast.h on device-accessible memory (CUDA managed memory, see
// buffer.h), so Pi0<float> and ValueModel<float> run their one data path on the GPU when built with nvcc and given
// device: cuda. Same signatures and accumulate (+=) semantics as the reference in layers.h; tested against it by
// CheckKernels (tolerances written there). Mixed precision: fp32 storage, fp32 master weights and Adam state, GEMMs
// with bf16 inputs on tensor cores and fp32 accumulation (Gemm::Bf16, the default) or fp32 throughout
// (Gemm::Fp32, for checking the model against the CPU path); softmax, norms, RoPE and the loss in fp32.
// This header is plain C++ (no CUDA types): model code includes it, and the definitions live in the .cu files.
// Without RIPTIDE_HAVE_CUDA only Query() exists, and it says why there is no device.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace riptide::pi0::cuda {

struct DeviceInfo {
  bool built = false;      // the addon was compiled with nvcc
  bool cublas = false;     // ... and with cuBLAS (the default GEMM engine then)
  int count = 0;           // usable devices (0 when the driver or the device is missing)
  std::string name;        // device 0
  int cc_major = 0, cc_minor = 0, sm_count = 0;
  size_t memory = 0;       // bytes
  int runtime = 0, driver = 0;  // CUDA versions, e.g. 13000
  std::string error;       // why count is 0
};

#if RIPTIDE_HAVE_CUDA

DeviceInfo Query();
bool Available();  // Query().count > 0, cached

void* ManagedAlloc(size_t bytes);  // cudaMallocManaged; throws Pi0Error on failure
void ManagedFree(void* p) noexcept;
void Sync();  // waits for the kernels launched so far; throws Pi0Error naming a failed kernel
void Zero(void* p, size_t bytes);  // memset on the device
void Copy(void* dst, const void* src, size_t bytes);  // between device-accessible buffers
void Copy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t rows);  // bytes

// A CUDA graph: the launches `launches` makes, recorded once by Capture and run again by Replay with one call.
// Host code inside `launches` runs once, at capture, so it must only launch (the flow steps of Pi0::sample).
struct Graph {
  void* exec = nullptr;        // cudaGraphExec_t
  std::vector<uint64_t> key;   // what the owner captured it for (shapes, buffer addresses)
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();
};
void Capture(Graph& g, const std::function<void()>& launches);
void Replay(const Graph& g);  // returns when the replay has finished

enum class Gemm { Bf16, Fp32 };
void SetGemm(Gemm g);  // process-wide
Gemm GetGemm();
// Who computes the GEMMs: our kernels (gemm.cu), or cuBLAS where the build found it (the default then).
enum class GemmEngine { Own, Cublas };
void SetGemmEngine(GemmEngine e);  // process-wide; Cublas throws Pi0Error in a build without it
GemmEngine GetGemmEngine();

// ---- kernels: fast.h's signatures without the pool ----
void matmul_forward(float* out, const float* inp, const float* w, const float* bias, int M, int K, int N,
                    bool accumulate = false);
void matmul_backward(float* dinp, float* dw, float* dbias, const float* dout, const float* inp, const float* w,
                     int M, int K, int N);
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* w, const float* b, int M,
                       int C);
void layernorm_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp, const float* w,
                        const float* mean, const float* rstd, int M, int C);
void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* w, int M, int C);
void rmsnorm_backward(float* dinp, float* dw, const float* dout, const float* inp, const float* w, const float* rstd,
                      int M, int C);
void gelu_forward(float* out, const float* inp, size_t n);
void gelu_backward(float* dinp, const float* dout, const float* inp, size_t n);
void geglu_forward(float* h, const float* gate, const float* up, size_t n);
void geglu_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up, size_t n);
void rope_forward(float* out, const float* inp, const float* cs, const float* sn, int B, int Tn, int nh, int hd,
                  int ostride, int ooff);
void rope_backward(float* dinp, const float* dout, const float* cs, const float* sn, int B, int Tn, int nh, int hd,
                   int ostride, int ooff);
void attention_forward(float* out, float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                       int B, int Tq, int Tk, int kstride, int H, int KV, int hd);
// scratch: at least B*Tq*H*Tk floats (the logit gradients, so dK/dV are summed per key without atomics)
void attention_backward(float* dq, float* dk, float* dv, float* scratch, const float* dout, const float* att,
                        const float* q, const float* k, const float* v, const uint8_t* mask, int B, int Tq, int Tk,
                        int kstride, int H, int KV, int hd);

// ---- suffix tokens and the flow sampler (suffix.cu); rows = sequences * per_seq ----
void silu_forward(float* out, const float* inp, size_t n);
void silu_backward(float* dinp, const float* dout, const float* inp, size_t n);
void add_into(float* dst, const float* src, size_t n);                            // dst += src
void time_embedding(float* out, double t, int rows, int dim);                     // TimeEmbedding(t) on every row
void concat_time(float* fuse_in, const float* ain, const float* temb, int rows, int per_seq, int D);
void add_cfg_rows(float* act_tok, const float* cfg, const int* cfg_idx, int rows, int per_seq, int D);
void cfg_grad(float* gcfg, const float* dact, const int* cfg_idx, int rows, int per_seq, int D);
void broadcast_rows(float* xt, const float* x, int B, int Bq, size_t per);        // xt[bq] = x[bq % B]
// x (n) += dt * v, v = v_u + s (v_c - v_u) when guided (v: n conditional values, then n unconditional)
void euler_step(float* x, const float* v, size_t n, bool guided, float cfg_scale, float dt);

// One AdamW step (AdamWRange's arithmetic) over a slab cut into segments of one learning rate and decay each.
struct AdamSegment {
  size_t offset = 0, size = 0;
  float lr = 0, wd = 0;
};
// Sum of squares of g[0..n) in double, in a fixed order (the same result on every run).
double SumSquares(const float* g, size_t n);
void AdamW(const std::vector<AdamSegment>& segs, float* p, const float* g, float* m, float* v, float gs, float b1,
           float b2, float eps, float ibc1, float ibc2);

// n x n x n GEMM through matmul_forward, `repeats` times after a warm-up: TFLOP/s with the current Gemm setting.
double GemmTflops(int n, int repeats);

// Each kernel against the reference in layers.h on seeded random inputs (shapes like the small preset's, and odd
// sizes that miss every tile edge). tol is written down per kernel: max |cuda - ref| / max(1, max |ref|).
struct KernelCheck {
  std::string name;
  double error = 0, tol = 0;
  bool pass = false;
};
std::vector<KernelCheck> CheckKernels(uint64_t seed);

#else

inline DeviceInfo Query() {
  DeviceInfo d;
  d.error = "the addon was built without CUDA (no nvcc was found when `npm run build:native` ran)";
  return d;
}
inline bool Available() { return false; }

#endif

}  // namespace riptide::pi0::cuda
