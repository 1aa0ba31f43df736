// The emulator's stand-in for cpp/pi0/cuda/runtime.cu: one "device" (this CPU), host memory as managed memory,
// launches that have finished when they return (emu.h runs them synchronously), and graphs that record launches
// and copies at capture and run them again at replay.
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "pi0/config.h"
#include "pi0/cuda/common.cuh"
#include "pi0/cuda/cuda.h"

namespace riptide::pi0::cuda {

cudaStream_t Stream() { return nullptr; }

void Check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Pi0Error(std::string("CUDA emulator: ") + what + " failed");
}
void Launched(const char*) {}

DeviceInfo Query() {
  DeviceInfo d;
  d.built = true;
  d.count = 1;
  d.name = "CPU emulator (cpp/dev/cuda-check)";
  d.cc_major = 9;
  return d;
}
bool Available() { return true; }

void* ManagedAlloc(size_t bytes) {
  void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!p) throw Pi0Error("CUDA emulator: out of memory");
  return p;
}
void ManagedFree(void* p) noexcept { std::free(p); }
void Sync() {}
// Runs `op` now, or records it while a graph is captured.
static void Run(std::function<void()> op) {
  if (emu::capturing) emu::capturing->push_back(std::move(op));
  else op();
}

void Zero(void* p, size_t bytes) {
  Run([=] { std::memset(p, 0, bytes); });
}
void Copy(void* dst, const void* src, size_t bytes) {
  Run([=] { std::memmove(dst, src, bytes); });
}
void Copy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t rows) {
  Run([=] {
    for (size_t r = 0; r < rows; r++)
      std::memmove(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width);
  });
}

using Records = std::vector<std::function<void()>>;

Graph::~Graph() { delete static_cast<Records*>(exec); }

void Capture(Graph& g, const std::function<void()>& launches) {
  delete static_cast<Records*>(g.exec);
  auto* records = new Records;
  g.exec = records;
  emu::capturing = records;
  try {
    launches();
  } catch (...) {
    emu::capturing = nullptr;
    throw;
  }
  emu::capturing = nullptr;
}

void Replay(const Graph& g) {
  for (auto& op : *static_cast<Records*>(g.exec)) op();
}

}  // namespace riptide::pi0::cuda
