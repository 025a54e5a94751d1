#pragma once
// Average pooling (no padding, planar [N, C, H, W]) element by element, for the CUDA kernels and
// the CPU-side test that runs them against the CPU loops. Each output sums its window row by
// row, as the CPU does, so both give the same bits.
#include "core/hd.h"
#include "kernels/pooling.h"

namespace ar1::kernels::math {

AR1_HD inline float avg_pool2d_forward_at(int64_t i, const float* x, const AvgPoolDesc& d) {
  const int64_t oh = d.oh(), ow = d.ow();
  const int64_t j = i % ow, r = (i / ow) % oh, plane = i / (ow * oh);
  const float* xp = x + plane * d.h * d.w;
  float acc = 0.f;
  for (int64_t a = 0; a < d.kh; ++a) {
    const float* row = xp + (r * d.stride + a) * d.w + j * d.stride;
    for (int64_t b = 0; b < d.kw; ++b) acc += row[b];
  }
  return acc * (1.f / static_cast<float>(d.kh * d.kw));
}

// dx[i]: the sum of g = dy scale over the outputs whose window covers input i, taken in the
// CPU's order (output rows, then columns, ascending).
AR1_HD inline float avg_pool2d_backward_at(int64_t i, const float* dy, const AvgPoolDesc& d) {
  const int64_t oh = d.oh(), ow = d.ow();
  const int64_t x = i % d.w, y = (i / d.w) % d.h, plane = i / (d.w * d.h);
  const float scale = 1.f / static_cast<float>(d.kh * d.kw);
  // Outputs r with r s <= y < r s + kh, likewise for columns.
  const int64_t r0 = y < d.kh ? 0 : (y - d.kh) / d.stride + 1;
  const int64_t r1 = hd::min_of(oh - 1, y / d.stride);
  const int64_t c0 = x < d.kw ? 0 : (x - d.kw) / d.stride + 1;
  const int64_t c1 = hd::min_of(ow - 1, x / d.stride);
  float acc = 0.f;
  for (int64_t r = r0; r <= r1; ++r) {
    for (int64_t c = c0; c <= c1; ++c) {
#if defined(__CUDA_ARCH__)
      // Rounded product, then rounded sum, as the CPU: nvcc would fuse them into one FMA.
      acc = __fadd_rn(acc, __fmul_rn(dy[plane * oh * ow + r * ow + c], scale));
#else
      acc += dy[plane * oh * ow + r * ow + c] * scale;
#endif
    }
  }
  return acc;
}

}  // namespace ar1::kernels::math
