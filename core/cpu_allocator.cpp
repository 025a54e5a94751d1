#include "core/cpu_allocator.h"

#include <cstdlib>

#include "core/error.h"
#include "core/storage.h"

namespace ar1 {

namespace {
// Size classes: multiples of the alignment for small blocks (malloc's own pools serve them),
// multiples of a 4 KiB page for cached ones, so that equal shapes meet in one class.
size_t size_class(size_t bytes) {
  const size_t step = bytes >= CpuAllocator::kMinCachedBytes ? 4096 : kCpuAlignment;
  const size_t rounded = (bytes + step - 1) / step * step;
  return rounded == 0 ? kCpuAlignment : rounded;
}
}  // namespace

CpuAllocator& CpuAllocator::instance() {
  // Never destroyed: tensors held by other static objects may be freed after main returns.
  static CpuAllocator* allocator = new CpuAllocator();
  return *allocator;
}

Block CpuAllocator::allocate(size_t bytes) {
  const size_t cls = size_class(bytes);
  if (cls >= kMinCachedBytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(cls);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      cached_ -= cls;
      return {p, cls};
    }
  }
  void* p = std::aligned_alloc(kCpuAlignment, cls);
  if (p == nullptr && cls >= kMinCachedBytes) {
    empty_cache();  // give the cache back and try once more
    p = std::aligned_alloc(kCpuAlignment, cls);
  }
  AR1_CHECK(p != nullptr, "[storage] out of memory allocating ", bytes, " bytes on the cpu");
  return {p, cls};
}

void CpuAllocator::release(const Block& block) {
  void* p = block.data;
  const size_t capacity = block.capacity;
  if (p == nullptr) return;
  if (capacity >= kMinCachedBytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ + capacity <= budget_) {
      free_[capacity].push_back(p);
      cached_ += capacity;
      return;
    }
  }
  std::free(p);
}

void CpuAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [cls, blocks] : free_) {
    for (void* p : blocks) std::free(p);
  }
  free_.clear();
  cached_ = 0;
}

size_t CpuAllocator::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_;
}

size_t CpuAllocator::budget() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return budget_;
}

void CpuAllocator::set_budget(size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    budget_ = bytes;
    if (cached_ <= budget_) return;
  }
  empty_cache();
}

}  // namespace ar1
