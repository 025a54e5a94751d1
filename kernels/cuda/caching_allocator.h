#pragma once
// The GPU's caching allocator. Blocks come from cudaMallocAsync on the device's stream (the
// driver's stream-ordered pool) and go back to per-size free lists here when a tensor lets go;
// the next allocation of that size class reuses one without a driver call. Every kernel and
// copy of a device runs on its one stream (Context), so a block released while a kernel still
// reads it is only handed out to work queued after that kernel: stream order makes the reuse
// safe without events.
//
// Cached bytes are capped by budget() (a quarter of the device's memory by default); beyond it
// blocks are returned to the pool. On out-of-memory the cache is emptied and the allocation
// retried once; then the error says how much was asked for and what is free.
//
// CUDA graphs: between begin_graph_pool() and end_graph_pool() (a capture) every allocation comes
// from a pool private to the graph, so its buffers keep their addresses for every replay and no
// eager tensor is ever handed one; blocks of earlier tensors released meanwhile are held (captured
// kernels may read them at replay). release_graph_pool() (the graph is gone) returns the pool's
// free and held blocks, and its live ones as their tensors let go.
#include <cstdint>
#include <functional>
#include <unordered_set>
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <cuda_runtime.h>

#include "core/allocator.h"

namespace ar1::kernels::cuda {

class CachingAllocator final : public Allocator {
 public:
  CachingAllocator(int device, cudaStream_t stream, size_t budget);

  Block allocate(size_t bytes) override;
  void release(const Block& block) override;
  void empty_cache() override;
  size_t cached_bytes() const override;
  size_t budget() const override;
  void set_budget(size_t bytes) override;

  size_t in_use_bytes() const;
  size_t peak_in_use_bytes() const;

  // Size classes: 512-byte steps below 1 MiB, 2 MiB steps above (the driver's own granularity).
  static size_t size_class(size_t bytes);

  using PoolId = int64_t;
  PoolId begin_graph_pool();
  void end_graph_pool();
  void release_graph_pool(PoolId pool);

 private:
  struct GraphPool {
    std::unordered_map<size_t, std::vector<void*>> free;
    std::vector<Block> held;               // earlier tensors' blocks released during capture
    std::unordered_set<void*> from_malloc;  // cudaMalloc'd for the pool (cudaFree, not the cache)
    size_t live = 0;                        // blocks held by tensors
    bool graph_alive = true;
  };
  void free_locked(void* p);
  void empty_cache_locked();
  void cache_or_free_locked(const Block& block);
  void give_back_pool_block_locked(GraphPool& pool, void* p, size_t cls);
  Block allocate_in_pool_locked(size_t cls, size_t bytes);
  // Frees that would touch the capturing stream or synchronise wait for the capture's end.
  void run_after_capture_locked(std::function<void()> work);
  void release_graph_pool_locked(PoolId pool);
  [[noreturn]] void out_of_memory_locked(size_t bytes);
  int device_;
  cudaStream_t stream_;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0, in_use_ = 0, peak_ = 0;
  size_t budget_;
  std::unordered_map<PoolId, GraphPool> pools_;
  std::unordered_map<void*, PoolId> pool_of_;  // every block a pool owns, live or free
  PoolId capturing_ = -1, next_pool_ = 0;
  std::vector<std::function<void()>> after_capture_;
};

}  // namespace ar1::kernels::cuda
