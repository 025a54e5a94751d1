#pragma once
// The storage offset of the i-th element (row-major order over view.shape) of a strided view:
// the index arithmetic of every device copy (contiguous(), to_channels_last, slices).
#include "core/device_backend.h"
#include "core/hd.h"

namespace ar1::kernels::math {

AR1_HD inline int64_t strided_offset(int64_t i, const StridedView& v) {
  int64_t offset = 0;
  for (int d = v.ndim - 1; d >= 0; --d) {
    const int64_t extent = v.shape[d];
    offset += (i % extent) * v.strides[d];
    i /= extent;
  }
  return offset;
}

}  // namespace ar1::kernels::math
