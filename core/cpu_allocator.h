#pragma once
// The CPU's caching allocator: blocks that tensors give back are kept in per-size free lists
// and handed to the next allocation of the same size. A training loop allocates the same
// activation shapes every iteration; without the cache each large block is a fresh mmap that
// the kernel clears page by page (bench/RESULTS.md: ~750k page faults and 2x the time of a
// MobileNetV1 train step). Blocks below kMinCachedBytes go to malloc, which pools them
// already. The cache holds at most budget() bytes; beyond that blocks are freed.
//
// Part of the CPU device, like the device registry: one per process, thread-safe.
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/allocator.h"

namespace ar1 {

class CpuAllocator final : public Allocator {
 public:
  static CpuAllocator& instance();

  // A 64-byte aligned block of at least `bytes`.
  Block allocate(size_t bytes) override;
  void release(const Block& block) override;

  void empty_cache() override;
  size_t cached_bytes() const override;
  size_t budget() const override;
  void set_budget(size_t bytes) override;

  static constexpr size_t kMinCachedBytes = 64 * 1024;

 private:
  CpuAllocator() = default;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // size class -> free blocks
  size_t cached_ = 0;
  // 4 GiB: a MobileNetV1 training step at batch 128, 128 x 128 frees about 2.2 GB at its end;
  // a smaller cache hands part of it back and the next step page-faults it in again.
  size_t budget_ = size_t{4} << 30;
};

}  // namespace ar1
