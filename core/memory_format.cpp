#include "core/memory_format.h"

#include <algorithm>

#include "core/tensor.h"

namespace ar1 {

namespace {

// Copies a rows x cols block of `src` (row stride src_ld) transposed into `dst` (row stride
// dst_ld), in 16 x 16 tiles so both sides stream through the cache.
void transpose(float* dst, const float* src, int64_t rows, int64_t cols, int64_t src_ld,
               int64_t dst_ld) {
  constexpr int64_t kTile = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    const int64_t r1 = std::min(rows, r0 + kTile);
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t c1 = std::min(cols, c0 + kTile);
      for (int64_t c = c0; c < c1; ++c) {
        for (int64_t r = r0; r < r1; ++r) dst[c * dst_ld + r] = src[r * src_ld + c];
      }
    }
  }
}

}  // namespace

Strides channels_last_strides(const Shape& s) {
  AR1_CHECK(s.size() == 4, "[channels_last] needs a 4-D [N, C, H, W] shape, got ", shape_str(s));
  return {s[1] * s[2] * s[3], 1, s[3] * s[1], s[1]};
}

bool is_channels_last(const Tensor& t) {
  if (!t.defined() || t.dim() != 4) return false;
  const Strides want = channels_last_strides(t.shape());
  for (size_t i = 0; i < 4; ++i) {
    if (t.shape()[i] != 1 && t.strides()[i] != want[i]) return false;
  }
  return true;
}

Tensor empty_channels_last(const Shape& shape, Device device) {
  const Tensor dense = Tensor::empty(shape, DType::f32, device);
  auto impl = std::make_shared<TensorImpl>(dense.impl());
  impl->strides = channels_last_strides(shape);
  return Tensor(std::move(impl));
}

void nchw_to_nhwc(float* dst, const float* src, int64_t n, int64_t c, int64_t hw) {
#pragma omp parallel for schedule(static) if (n * c * hw > (1 << 16))
  for (int64_t i = 0; i < n; ++i) transpose(dst + i * c * hw, src + i * c * hw, c, hw, hw, c);
}

void nhwc_to_nchw(float* dst, const float* src, int64_t n, int64_t c, int64_t hw) {
#pragma omp parallel for schedule(static) if (n * c * hw > (1 << 16))
  for (int64_t i = 0; i < n; ++i) transpose(dst + i * c * hw, src + i * c * hw, hw, c, c, hw);
}

}  // namespace ar1
