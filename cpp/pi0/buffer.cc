// Buf<T> storage (buffer.h). Each block starts with a header saying how it was allocated, so a buffer allocated
// before UseManagedMemory() is still freed the right way after it.
#include "pi0/buffer.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "pi0/config.h"
#include "pi0/cuda/cuda.h"

namespace riptide::pi0 {
namespace {

constexpr size_t kHeader = 64;  // keeps the data 64-byte aligned
constexpr uint32_t kHost = 0x484f5354, kManaged = 0x4d414e47;
std::atomic<bool> g_managed{false};

}  // namespace

void UseManagedMemory() {
#if RIPTIDE_HAVE_CUDA
  g_managed = true;
#else
  throw Pi0Error(cuda::Query().error);
#endif
}

void* BufAlloc(size_t bytes) {
  void* base = nullptr;
  uint32_t kind = kHost;
#if RIPTIDE_HAVE_CUDA
  if (g_managed) {
    base = cuda::ManagedAlloc(bytes + kHeader);
    kind = kManaged;
  }
#endif
  if (!base) base = std::aligned_alloc(kHeader, (bytes + 2 * kHeader - 1) / kHeader * kHeader);
  if (!base) throw std::bad_alloc();
  *static_cast<uint32_t*>(base) = kind;
  return static_cast<char*>(base) + kHeader;
}

void BufFree(void* p) noexcept {
  if (!p) return;
  void* base = static_cast<char*>(p) - kHeader;
#if RIPTIDE_HAVE_CUDA
  if (*static_cast<uint32_t*>(base) == kManaged) return cuda::ManagedFree(base);
#endif
  std::free(base);
}

}  // namespace riptide::pi0
