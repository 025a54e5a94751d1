#pragma once
// The gradient masked by a fused ReLU, and its per-channel sums, for kernels that fuse the
// folded evaluation BatchReNorm's backward into a convolution's (conv2d_relu_backward).
//
// The sums must have the bits of batch_renorm_backward's dbeta: BatchReNorm's blocks of pixel
// rows (batch_renorm_fusion.h), each summed in row order from 0 in double, then the blocks in
// order. The fused kernel masks the rows chunk by chunk, its chunks on several threads; a block
// is summed while the one chunk that holds all of it masks it, and the few blocks that
// straddle two chunks are summed by finish() afterwards.
#include <cstdint>
#include <vector>

namespace ar1::kernels::cpu::portable {

class MaskedGradSums {
 public:
  // rows pixel rows of c channels, cut into chunks of chunk_rows; db [c] gets the sums (null:
  // mask only).
  MaskedGradSums(int64_t rows, int64_t c, int64_t chunk_rows, float* db);
  // out [r1 - r0, c] = dy masked where y > 0, for the rows [r0, r1) of one chunk (dy and y
  // point at row r0); within a chunk, called in row order.
  void mask(float* out, const float* dy, const float* y, int64_t r0, int64_t r1);
  // The straddling blocks from the whole dy and y, then db.
  void finish(const float* dy, const float* y);

 private:
  bool whole_in_a_chunk(int64_t block) const;
  int64_t rows_, c_, chunk_rows_, block_rows_, blocks_;
  float* db_;
  std::vector<double> sums_;  // [blocks, c]
};

}  // namespace ar1::kernels::cpu::portable
