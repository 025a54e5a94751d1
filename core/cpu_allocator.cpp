#include "core/cpu_allocator.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>

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
  if (cls < kMinCachedBytes) {
    void* p = std::aligned_alloc(kCpuAlignment, cls);
    AR1_CHECK(p != nullptr, "[storage] out of memory allocating ", bytes, " bytes on the cpu");
    return {p, cls};
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto fit = free_.lower_bound({cls, nullptr});
  if (fit != free_.end()) {  // the smallest free piece that holds it, split
    char* base = fit->second;
    free_.erase(fit);
    Piece& piece = pieces_.at(base);
    const size_t rest = piece.size - cls;
    cached_ -= piece.size;
    if (rest >= kMinCachedBytes) {
      pieces_[base + cls] = Piece{rest, true, piece.segment};
      free_.insert({rest, base + cls});
      cached_ += rest;
      piece.size = cls;
    }
    piece.free = false;
    in_use_ += piece.size;
    peak_ = std::max(peak_, in_use_);
    return {base, piece.size};
  }
  // A new segment, at least kSegmentBytes: pieces cut from one segment merge again when freed,
  // so the blocks of a step's forward, freed in turn by its backward, serve larger requests.
  const size_t segment = std::max(cls, kSegmentBytes);
  void* p = std::aligned_alloc(kCpuAlignment, segment);
  if (p == nullptr) {
    release_free_segments_locked(0);  // give the cache back and try once more
    p = std::aligned_alloc(kCpuAlignment, segment);
  }
  AR1_CHECK(p != nullptr, "[storage] out of memory allocating ", bytes, " bytes on the cpu");
  char* base = static_cast<char*>(p);
  segments_[base] = segment;
  pieces_[base] = Piece{cls, false, base};
  if (segment - cls >= kMinCachedBytes) {
    pieces_[base + cls] = Piece{segment - cls, true, base};
    free_.insert({segment - cls, base + cls});
    cached_ += segment - cls;
  } else {
    pieces_[base].size = segment;
  }
  in_use_ += pieces_[base].size;
  peak_ = std::max(peak_, in_use_);
  return {p, pieces_[base].size};
}

void CpuAllocator::release(const Block& block) {
  if (block.data == nullptr) return;
  if (block.capacity < kMinCachedBytes) {
    std::free(block.data);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = pieces_.find(static_cast<char*>(block.data));
  AR1_CHECK(it != pieces_.end() && !it->second.free,
            "[storage] internal: a block the cpu allocator does not hold was released");
  in_use_ -= it->second.size;
  mark_free_locked(it);
  if (cached_ > budget_) release_free_segments_locked(budget_);
}

void CpuAllocator::mark_free_locked(PieceMap::iterator it) {
  it->second.free = true;
  cached_ += it->second.size;
  // Merge with the free neighbours of the same segment.
  auto next = std::next(it);
  if (next != pieces_.end() && next->second.free && next->second.segment == it->second.segment &&
      next->first == it->first + it->second.size) {
    free_.erase({next->second.size, next->first});
    it->second.size += next->second.size;
    pieces_.erase(next);
  }
  if (it != pieces_.begin()) {
    auto prev = std::prev(it);
    if (prev->second.free && prev->second.segment == it->second.segment &&
        prev->first + prev->second.size == it->first) {
      free_.erase({prev->second.size, prev->first});
      prev->second.size += it->second.size;
      pieces_.erase(it);
      it = prev;
    }
  }
  free_.insert({it->second.size, it->first});
}

void CpuAllocator::release_free_segments_locked(size_t keep) {
  // Whole segments only (a free piece as large as its segment), largest first.
  for (auto f = free_.rbegin(); f != free_.rend() && cached_ > keep;) {
    const auto [size, base] = *f;
    auto seg = segments_.find(base);
    if (seg == segments_.end() || seg->second != size) {
      ++f;
      continue;
    }
    f = std::make_reverse_iterator(free_.erase(std::next(f).base()));
    pieces_.erase(base);
    segments_.erase(seg);
    cached_ -= size;
    std::free(base);
  }
}

void CpuAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_free_segments_locked(0);
}

size_t CpuAllocator::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_;
}

size_t CpuAllocator::in_use_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_use_;
}

size_t CpuAllocator::peak_in_use_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

void CpuAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  peak_ = in_use_;
}

size_t CpuAllocator::budget() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return budget_;
}

void CpuAllocator::set_budget(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  budget_ = bytes;
  if (cached_ > budget_) release_free_segments_locked(budget_);
}

}  // namespace ar1
