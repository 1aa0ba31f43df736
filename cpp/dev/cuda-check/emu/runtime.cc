// The emulator's stand-in for cpp/pi0/cuda/runtime.cu: one "device" (this CPU), host memory as managed memory,
// and launches that have finished when they return (emu.h runs them synchronously).
#include <cstdlib>
#include <cstring>

#include "pi0/config.h"
#include "pi0/cuda/common.cuh"
#include "pi0/cuda/cuda.h"

namespace riptide::pi0::cuda {

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
void Zero(void* p, size_t bytes) { std::memset(p, 0, bytes); }
void Copy(void* dst, const void* src, size_t bytes) { std::memmove(dst, src, bytes); }

}  // namespace riptide::pi0::cuda
