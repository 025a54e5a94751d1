#pragma once
// What a kernel that fuses part of the CPU BatchReNorm (batch_renorm.cpp) into another pass
// must compute the same way to give the same bits (pointwise_relu_backward, say):
// - the channels-last channel sums' blocks: the N HW pixel rows cut into blocks of
//   batch_renorm_block_rows(C) rows, fixed by C alone; each block sums its rows in order, from
//   0, in double, and the blocks are added in order;
// - the gradient masked by the fused ReLU.
#include <algorithm>
#include <bit>
#include <cstdint>

namespace ar1::kernels::cpu {

inline int64_t batch_renorm_block_rows(int64_t c) {
  constexpr int64_t kBlockElements = int64_t{1} << 14;
  return std::max<int64_t>(1, kBlockElements / c);
}

// dy where the ReLU's output was positive, else +0. Written as a bit mask: GCC 12 keeps
// `out > 0 ? dy : 0` as a branch, which mispredicts on half the elements (10x slower).
inline float relu_masked_grad(float dy, float out) {
  const uint32_t keep = 0u - static_cast<uint32_t>(out > 0.f);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(dy) & keep);
}

}  // namespace ar1::kernels::cpu
