#pragma once
// The CPU's caching allocator. A training loop allocates the same activation shapes every
// iteration; without a cache each large block is a fresh mmap that the kernel clears page by
// page (bench/RESULTS.md: ~750k page faults and 2x the time of a MobileNetV1 train step).
// Blocks below kMinCachedBytes go to malloc, which pools them already.
//
// Larger blocks are cut from segments (one aligned_alloc each) by best fit: the smallest free
// piece that holds the request is split, the rest stays free, and a piece given back merges
// with free neighbours of its segment. Free memory of any size thus serves any later request,
// so what the process holds stays near what its tensors hold at most (free lists per exact
// size kept a high-water mark per size: 1.79 GiB for a MobileNetV1 train step whose tensors
// peak at 0.98 GiB). Free bytes beyond budget() are handed back, whole segments at a time.
//
// Part of the CPU device, like the device registry: one per process, thread-safe.
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

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
  // Segments are at least this large (untouched pages cost no memory). MobileNetV1's train
  // step at batch 128, 128 x 128, whose tensors peak at 0.98 GiB, holds 1.73 GiB with one
  // segment per request, 1.47 with 64 MiB segments, 1.21 with 256 MiB.
  static constexpr size_t kSegmentBytes = size_t{256} << 20;

  // Bytes of blocks of at least kMinCachedBytes held by tensors now, and the most so far
  // (smaller blocks are malloc's); reset_peak() starts a new measurement.
  size_t in_use_bytes() const;
  size_t peak_in_use_bytes() const;
  void reset_peak();

 private:
  CpuAllocator() = default;
  struct Piece {
    size_t size = 0;
    bool free = false;
    char* segment = nullptr;  // the aligned_alloc it was cut from
  };
  using PieceMap = std::map<char*, Piece>;
  void mark_free_locked(PieceMap::iterator it);
  void release_free_segments_locked(size_t keep);

  mutable std::mutex mutex_;
  PieceMap pieces_;                               // every piece of every segment, by address
  std::set<std::pair<size_t, char*>> free_;       // free pieces by (size, address): best fit
  std::unordered_map<char*, size_t> segments_;    // segment base -> size
  size_t cached_ = 0;                             // bytes in free pieces
  size_t in_use_ = 0, peak_ = 0;
  // 4 GiB: a MobileNetV1 training step at batch 128, 128 x 128 frees about 2.2 GB at its end;
  // a smaller cache hands part of it back and the next step page-faults it in again.
  size_t budget_ = size_t{4} << 30;
};

}  // namespace ar1
