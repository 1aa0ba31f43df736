// Device discovery, managed memory and error checks for the CUDA backend (cuda.h).
#include <cuda_runtime.h>

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "pi0/config.h"
#include "pi0/cuda/common.cuh"
#include "pi0/cuda/cuda.h"

namespace riptide::pi0::cuda {

void Check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw Pi0Error(std::string("CUDA: ") + what + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                   ")");
}

namespace {
thread_local bool g_capturing = false;  // this thread is capturing its stream into a graph
}  // namespace

// One stream per thread: the rollout and learner actors are threads of one process and run side by side.
cudaStream_t Stream() {
  static thread_local cudaStream_t s = [] {
    cudaStream_t st = nullptr;
    Check(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), "cudaStreamCreate");
    return st;
  }();
  return s;
}

void Launched(const char* kernel) {
  Check(cudaGetLastError(), kernel);
  // The model's host loops (model.cc) read and write the same managed buffers between ops, so every op completes
  // before it returns, except inside a captured graph, whose steps have no host loops (Pi0::sample).
  if (!g_capturing) Check(cudaStreamSynchronize(Stream()), kernel);
}

Graph::~Graph() {
  if (exec) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec));
}

void Capture(Graph& g, const std::function<void()>& launches) {
  if (g.exec) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(g.exec));
  g.exec = nullptr;
  Check(cudaStreamBeginCapture(Stream(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  g_capturing = true;
  cudaGraph_t graph = nullptr;
  try {
    launches();
  } catch (...) {
    g_capturing = false;
    cudaStreamEndCapture(Stream(), &graph);
    if (graph) cudaGraphDestroy(graph);
    throw;
  }
  g_capturing = false;
  Check(cudaStreamEndCapture(Stream(), &graph), "cudaStreamEndCapture");
  cudaGraphExec_t exec = nullptr;
  const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  Check(e, "cudaGraphInstantiate");
  g.exec = exec;
}

void Replay(const Graph& g) {
  Check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(g.exec), Stream()), "cudaGraphLaunch");
  Check(cudaStreamSynchronize(Stream()), "graph replay");
}

DeviceInfo Query() {
  DeviceInfo d;
  d.built = true;
#if RIPTIDE_HAVE_CUBLAS
  d.cublas = true;
#endif
  cudaRuntimeGetVersion(&d.runtime);
  cudaDriverGetVersion(&d.driver);
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    d.error = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    if (d.driver == 0) d.error += " (no NVIDIA driver is loaded on this machine)";
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return d;
  }
  if (n == 0) {
    d.error = "no CUDA device found";
    return d;
  }
  cudaDeviceProp p{};
  e = cudaGetDeviceProperties(&p, 0);
  if (e != cudaSuccess) {
    d.error = std::string("cudaGetDeviceProperties: ") + cudaGetErrorString(e);
    return d;
  }
  d.name = p.name;
  d.cc_major = p.major;
  d.cc_minor = p.minor;
  d.sm_count = p.multiProcessorCount;
  d.memory = p.totalGlobalMem;
  if (p.major < 8) {
    d.error = std::string(p.name) + " has compute capability " + std::to_string(p.major) + "." +
              std::to_string(p.minor) + "; riptide's bf16 tensor-core kernels need 8.0 or newer (A100, H100)";
    return d;
  }
  d.count = n;
  return d;
}

bool Available() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = Query().count > 0; });
  return ok;
}

// Managed memory larger than the device can oversubscribe it, which can hang the GPU, not only this process: so
// the sum of live managed allocations stays under the memory that was free when the first one was made, less 1 GiB.
namespace {
std::mutex g_mem_mu;
std::unordered_map<void*, size_t> g_live;
size_t g_live_bytes = 0, g_budget = 0;
}  // namespace

void* ManagedAlloc(size_t bytes) {
  bytes = bytes == 0 ? 1 : bytes;
  std::lock_guard<std::mutex> lk(g_mem_mu);
  if (g_budget == 0) {
    size_t free = 0, total = 0;
    Check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
    g_budget = free > (size_t(1) << 30) ? free - (size_t(1) << 30) : free / 2;
  }
  if (g_live_bytes + bytes > g_budget) {
    const double gib = double(size_t(1) << 30);
    throw Pi0Error("CUDA: " + std::to_string((g_live_bytes + bytes) / gib) + " GiB of model memory would not fit in the " +
                   std::to_string(g_budget / gib) + " GiB the device had free; use a smaller batch or preset");
  }
  void* p = nullptr;
  Check(cudaMallocManaged(&p, bytes), "cudaMallocManaged");
  g_live[p] = bytes;
  g_live_bytes += bytes;
  return p;
}

void ManagedFree(void* p) noexcept {
  cudaDeviceSynchronize();  // a kernel may still be using it
  cudaFree(p);
  std::lock_guard<std::mutex> lk(g_mem_mu);
  auto it = g_live.find(p);
  if (it == g_live.end()) return;
  g_live_bytes -= it->second;
  g_live.erase(it);
}

void Sync() { Check(cudaStreamSynchronize(Stream()), "cudaStreamSynchronize"); }

void Copy(void* dst, const void* src, size_t bytes) {
  Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, Stream()), "cudaMemcpyAsync");
  Launched("cudaMemcpyAsync");
}

void Copy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t rows) {
  if (rows == 0 || width == 0) return;
  Check(cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, rows, cudaMemcpyDefault, Stream()), "cudaMemcpy2DAsync");
  Launched("cudaMemcpy2DAsync");
}

void Zero(void* p, size_t bytes) {
  Check(cudaMemsetAsync(p, 0, bytes, Stream()), "cudaMemsetAsync");
  Launched("cudaMemsetAsync");
}

}  // namespace riptide::pi0::cuda
