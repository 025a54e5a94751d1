#include "kernels/cuda/caching_allocator.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/cuda/status.h"

namespace ar1::kernels::cuda {

namespace {
constexpr size_t kSmall = size_t{1} << 20;
constexpr size_t kMiB = size_t{1} << 20;
}  // namespace

size_t CachingAllocator::size_class(size_t bytes) {
  const size_t step = bytes < kSmall ? 512 : 2 * kMiB;
  const size_t rounded = (bytes + step - 1) / step * step;
  return rounded == 0 ? 512 : rounded;
}

CachingAllocator::CachingAllocator(int device, cudaStream_t stream, size_t budget)
    : device_(device), stream_(stream), budget_(budget) {}

Block CachingAllocator::allocate(size_t bytes) {
  const size_t cls = size_class(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = free_.find(cls); it != free_.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= cls;
    in_use_ += cls;
    peak_ = std::max(peak_, in_use_);
    return {p, cls};
  }
  void* p = nullptr;  // from the pool of the stream's device
  cudaError_t err = cudaMallocAsync(&p, cls, stream_);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    empty_cache_locked();
    err = cudaMallocAsync(&p, cls, stream_);
  }
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    AR1_FAIL("[cuda] out of memory on cuda:", device_, ": asked for ", bytes / kMiB, " MiB (",
             bytes, " bytes); ", free_bytes / kMiB, " MiB free of ", total_bytes / kMiB,
             " MiB, ", in_use_ / kMiB, " MiB held by ar1's tensors. Use a smaller batch "
             "(--batch-size), a smaller replay memory, or --device cpu");
  }
  check(err, "cudaMallocAsync");
  in_use_ += cls;
  peak_ = std::max(peak_, in_use_);
  return {p, cls};
}

void CachingAllocator::release(const Block& block) {
  if (block.data == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  in_use_ -= block.capacity;
  if (cached_ + block.capacity <= budget_) {
    free_[block.capacity].push_back(block.data);
    cached_ += block.capacity;
    return;
  }
  free_locked(block.data);
}

void CachingAllocator::free_locked(void* p) {
  // Never throws: release() runs in destructors. A failure here means the context is gone.
  if (cudaFreeAsync(p, stream_) != cudaSuccess) cudaGetLastError();
}

void CachingAllocator::empty_cache_locked() {
  for (auto& [cls, blocks] : free_) {
    for (void* p : blocks) free_locked(p);
  }
  free_.clear();
  cached_ = 0;
  // Give the pool's memory back to the device as well, once the frees above have run.
  cudaStreamSynchronize(stream_);
  cudaMemPool_t pool;
  if (cudaDeviceGetDefaultMemPool(&pool, device_) == cudaSuccess) cudaMemPoolTrimTo(pool, 0);
  cudaGetLastError();
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  empty_cache_locked();
}

size_t CachingAllocator::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_;
}

size_t CachingAllocator::budget() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return budget_;
}

void CachingAllocator::set_budget(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  budget_ = bytes;
  if (cached_ > budget_) empty_cache_locked();
}

size_t CachingAllocator::in_use_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_use_;
}

size_t CachingAllocator::peak_in_use_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

}  // namespace ar1::kernels::cuda
