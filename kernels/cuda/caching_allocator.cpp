#include "kernels/cuda/caching_allocator.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/cuda/status.h"
#include "kernels/device_runtime.h"

#include <string>

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
  if (capturing_ >= 0) return allocate_in_pool_locked(cls, bytes);
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
    out_of_memory_locked(bytes);
  }
  check(err, "cudaMallocAsync");
  in_use_ += cls;
  peak_ = std::max(peak_, in_use_);
  return {p, cls};
}

void CachingAllocator::out_of_memory_locked(size_t bytes) {
  size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  cudaGetLastError();
  AR1_FAIL("[cuda] out of memory on cuda:", device_, ": asked for ", bytes / kMiB, " MiB (",
           bytes, " bytes); ", free_bytes / kMiB, " MiB free of ", total_bytes / kMiB, " MiB, ",
           in_use_ / kMiB, " MiB held by ar1's tensors. Use a smaller batch (--batch-size), a "
           "smaller replay memory, or --device cpu");
}

Block CachingAllocator::allocate_in_pool_locked(size_t cls, size_t bytes) {
  GraphPool& pool = pools_.at(capturing_);
  void* p = nullptr;
  if (auto it = pool.free.find(cls); it != pool.free.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
  } else if (auto c = free_.find(cls); c != free_.end() && !c->second.empty()) {
    p = c->second.back();  // from the eager cache: stream order makes it free for the graph
    c->second.pop_back();
    cached_ -= cls;
    pool_of_[p] = capturing_;
  } else {
    // Not cudaMallocAsync: during capture that would become an allocation node of the graph.
    const cudaError_t err = cudaMalloc(&p, cls);
    if (err != cudaSuccess) {  // the eager step may still fit: it can empty the cache first
      cudaGetLastError();
      throw GraphCaptureUnsupported("[cuda] no memory for a graph's pool (asked for " +
                                    std::to_string(bytes >> 20) + " MiB: " +
                                    cudaGetErrorName(err) + "); this step runs eagerly");
    }
    pool.from_malloc.insert(p);
    pool_of_[p] = capturing_;
  }
  ++pool.live;
  in_use_ += cls;
  peak_ = std::max(peak_, in_use_);
  return {p, cls};
}

void CachingAllocator::release(const Block& block) {
  if (block.data == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  in_use_ -= block.capacity;
  if (auto owner = pool_of_.find(block.data); owner != pool_of_.end()) {
    const PoolId id = owner->second;
    GraphPool& pool = pools_.at(id);
    --pool.live;
    if (pool.graph_alive) {
      pool.free[block.capacity].push_back(block.data);  // replays still write it
      return;
    }
    if (capturing_ >= 0) {  // its graph is gone, but a free now would join the capture
      const Block b = block;
      run_after_capture_locked([this, id, b] {
        GraphPool& dead = pools_.at(id);
        give_back_pool_block_locked(dead, b.data, b.capacity);
        if (dead.live == 0) pools_.erase(id);
      });
      return;
    }
    give_back_pool_block_locked(pool, block.data, block.capacity);
    if (pool.live == 0) pools_.erase(id);
    return;
  }
  if (capturing_ >= 0) {  // captured kernels may read it at every replay
    pools_.at(capturing_).held.push_back(block);
    return;
  }
  cache_or_free_locked(block);
}

void CachingAllocator::cache_or_free_locked(const Block& block) {
  if (cached_ + block.capacity <= budget_) {
    free_[block.capacity].push_back(block.data);
    cached_ += block.capacity;
    return;
  }
  free_locked(block.data);
}

void CachingAllocator::give_back_pool_block_locked(GraphPool& pool, void* p, size_t cls) {
  pool_of_.erase(p);
  if (pool.from_malloc.erase(p) > 0) {
    if (cudaFree(p) != cudaSuccess) cudaGetLastError();  // synchronises: the graph is gone
    return;
  }
  cache_or_free_locked({p, cls});
}

CachingAllocator::PoolId CachingAllocator::begin_graph_pool() {
  std::lock_guard<std::mutex> lock(mutex_);
  AR1_CHECK(capturing_ < 0, "[cuda] a CUDA graph capture is already under way on cuda:", device_);
  capturing_ = next_pool_++;
  pools_[capturing_];
  return capturing_;
}

void CachingAllocator::end_graph_pool() {
  std::lock_guard<std::mutex> lock(mutex_);
  capturing_ = -1;
  std::vector<std::function<void()>> work;
  work.swap(after_capture_);
  for (auto& w : work) w();
}

void CachingAllocator::run_after_capture_locked(std::function<void()> work) {
  after_capture_.push_back(std::move(work));
}

void CachingAllocator::release_graph_pool(PoolId id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (capturing_ >= 0) {  // another graph destroyed inside a capture body
    run_after_capture_locked([this, id] { release_graph_pool_locked(id); });
    return;
  }
  release_graph_pool_locked(id);
}

void CachingAllocator::release_graph_pool_locked(PoolId id) {
  auto it = pools_.find(id);
  if (it == pools_.end()) return;
  // A replay still queued writes these blocks: let it finish before they go anywhere (cudaFree
  // need not wait for it).
  if (cudaStreamSynchronize(stream_) != cudaSuccess) cudaGetLastError();
  GraphPool& pool = it->second;
  pool.graph_alive = false;
  for (auto& [cls, blocks] : pool.free) {
    for (void* p : blocks) give_back_pool_block_locked(pool, p, cls);
  }
  pool.free.clear();
  for (const Block& b : pool.held) cache_or_free_locked(b);
  pool.held.clear();
  if (pool.live == 0) pools_.erase(it);
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
  if (capturing_ >= 0) {  // it synchronises: not inside a capture
    run_after_capture_locked([this] { empty_cache_locked(); });
    return;
  }
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
  if (cached_ > budget_ && capturing_ < 0) empty_cache_locked();
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
