#pragma once
// SPEC.md 3b's latent cache: when every layer below a point is frozen and in evaluation mode
// and the training pipeline draws nothing at random, that point's activation of an image is
// the same in every epoch of an experience. The cache keeps it per dataset index, filled in
// the first epoch and read in the others.
//
// Exact: a cached row is the value the frozen layers computed for that image. (Recomputing
// it in a differently composed batch may round differently in oneDNN; with the same batches,
// results with and without the cache are bit-identical, as tested.)
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"

namespace ar1::strategy {

class LatentCache {
 public:
  // Beyond max_bytes (default kMaxBytes) new rows are not kept (they are computed every time
  // instead).
  static constexpr int64_t kMaxBytes = int64_t{1} << 30;
  explicit LatentCache(int64_t max_bytes = kMaxBytes) : max_bytes_(max_bytes) {}

  // Starts an experience: drops every row; `enabled` says whether this one may cache. The
  // hit and miss counts run on across experiences.
  void reset(bool enabled);
  bool enabled() const { return enabled_; }

  // The rows of `indices` in order, when every one is cached; else undefined.
  Tensor lookup(const std::vector<int64_t>& indices);
  // Keeps row r of `rows` (a batch, no graph) for indices[r]; rows share the batch's storage.
  // A batch that would pass max_bytes is not kept.
  void insert(const std::vector<int64_t>& indices, const Tensor& rows);

  int64_t size() const { return static_cast<int64_t>(rows_.size()); }
  int64_t bytes() const { return bytes_; }
  int64_t hits() const { return hits_; }      // rows served from the cache
  int64_t misses() const { return misses_; }  // rows computed while enabled

 private:
  int64_t max_bytes_;
  bool enabled_ = false;
  std::unordered_map<int64_t, Tensor> rows_;
  int64_t bytes_ = 0;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

}  // namespace ar1::strategy
