// Buf<T>: the std::vector that every model slab and activation lives in. Host memory, or CUDA managed memory once
// a model in this process has been put on the GPU (UseManagedMemory), so the same buffers are read and written by
// the host loops of model.cc and by the device kernels of cuda/, with one copy of the weights either way.
#pragma once
#include <cstddef>
#include <vector>

namespace riptide::pi0 {

void* BufAlloc(size_t bytes);
void BufFree(void* p) noexcept;
// From now on (process-wide) new buffers are CUDA managed memory. Throws Pi0Error when the build has no CUDA.
void UseManagedMemory();

template <typename T> struct BufAllocator {
  using value_type = T;
  BufAllocator() = default;
  template <typename U> BufAllocator(const BufAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(BufAlloc(n * sizeof(T))); }
  void deallocate(T* p, size_t) noexcept { BufFree(p); }
  template <typename U> bool operator==(const BufAllocator<U>&) const { return true; }
  template <typename U> bool operator!=(const BufAllocator<U>&) const { return false; }
};

template <typename T> using Buf = std::vector<T, BufAllocator<T>>;

}  // namespace riptide::pi0
