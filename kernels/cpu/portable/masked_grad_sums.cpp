#include "kernels/cpu/portable/masked_grad_sums.h"

#include <algorithm>

#include "kernels/cpu/batch_renorm_fusion.h"
#include "kernels/cpu/fixed_blocks.h"

namespace ar1::kernels::cpu::portable {

MaskedGradSums::MaskedGradSums(int64_t rows, int64_t c, int64_t chunk_rows, float* db)
    : rows_(rows), c_(c), chunk_rows_(chunk_rows), block_rows_(batch_renorm_block_rows(c)),
      blocks_(ceil_div(rows, block_rows_)), db_(db),
      sums_(db != nullptr ? static_cast<size_t>(blocks_ * c) : 0, 0.0) {}

bool MaskedGradSums::whole_in_a_chunk(int64_t block) const {
  const int64_t first = block * block_rows_;
  const int64_t last = std::min(rows_, first + block_rows_) - 1;
  return first / chunk_rows_ == last / chunk_rows_;
}

void MaskedGradSums::mask(float* out, const float* dy, const float* y, int64_t r0, int64_t r1) {
  const int64_t c = c_;
  for (int64_t b0 = r0; b0 < r1;) {  // one BatchReNorm block (or the part of it here) at a time
    const int64_t block = b0 / block_rows_, b1 = std::min(r1, (block + 1) * block_rows_);
    const int64_t offset = (b0 - r0) * c;
    const float* g = dy + offset;
    const float* v = y + offset;
    float* m = out + offset;
    if (db_ != nullptr && whole_in_a_chunk(block)) {
      double* sum = sums_.data() + block * c;
      for (int64_t r = 0; r < b1 - b0; ++r) {
        for (int64_t k = 0; k < c; ++k) {
          const float masked = relu_masked_grad(g[r * c + k], v[r * c + k]);
          m[r * c + k] = masked;
          sum[k] += masked;
        }
      }
    } else {
      for (int64_t k = 0; k < (b1 - b0) * c; ++k) m[k] = relu_masked_grad(g[k], v[k]);
    }
    b0 = b1;
  }
}

void MaskedGradSums::finish(const float* dy, const float* y) {
  if (db_ == nullptr) return;
  const int64_t c = c_;
  for (int64_t block = 0; block < blocks_; ++block) {
    if (whole_in_a_chunk(block)) continue;
    double* sum = sums_.data() + block * c;
    const int64_t end = std::min(rows_, (block + 1) * block_rows_);
    for (int64_t r = block * block_rows_; r < end; ++r) {
      for (int64_t k = 0; k < c; ++k) sum[k] += relu_masked_grad(dy[r * c + k], y[r * c + k]);
    }
  }
  std::vector<double> total(static_cast<size_t>(c), 0.0);
  for (int64_t block = 0; block < blocks_; ++block) {
    for (int64_t k = 0; k < c; ++k) total[k] += sums_[block * c + k];
  }
  for (int64_t k = 0; k < c; ++k) db_[k] = static_cast<float>(total[k]);
}

}  // namespace ar1::kernels::cpu::portable
