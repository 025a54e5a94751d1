#include "strategy/latent_cache.h"

namespace ar1::strategy {

void LatentCache::reset(bool enabled) {
  enabled_ = enabled;
  rows_.clear();
  bytes_ = 0;
}

Tensor LatentCache::lookup(const std::vector<int64_t>& indices) {
  if (!enabled_ || indices.empty()) return {};
  std::vector<Tensor> parts;
  parts.reserve(indices.size());
  for (int64_t index : indices) {
    const auto found = rows_.find(index);
    if (found == rows_.end()) return {};
    parts.push_back(found->second);
  }
  hits_ += static_cast<int64_t>(indices.size());
  return Tensor::concat(parts);  // channels-last rows stay channels-last (a memcpy each)
}

void LatentCache::insert(const std::vector<int64_t>& indices, const Tensor& rows) {
  if (!enabled_) return;
  AR1_CHECK(rows.dim() >= 1 && rows.size(0) == static_cast<int64_t>(indices.size()),
            "[latent cache] ", indices.size(), " indices for rows ", rows.describe());
  misses_ += static_cast<int64_t>(indices.size());
  const int64_t batch_bytes = rows.numel() * static_cast<int64_t>(dtype_size(rows.dtype()));
  if (bytes_ + batch_bytes > max_bytes_) return;
  const Tensor batch = rows.detach();
  for (size_t r = 0; r < indices.size(); ++r) {
    const auto row = static_cast<int64_t>(r);
    const Tensor t = batch.slice(row, row + 1);
    if (rows_.try_emplace(indices[r], t).second) {
      bytes_ += t.numel() * static_cast<int64_t>(dtype_size(t.dtype()));
    }
  }
}

}  // namespace ar1::strategy
