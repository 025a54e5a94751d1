#pragma once
// One element of kernels/dequantize.h, shared by the CPU loop and the CUDA kernel.
#include "core/half.h"
#include "core/hd.h"
#include "kernels/dequantize.h"

namespace ar1::kernels::math {

AR1_HD inline float dequantize_at(int64_t i, const void* q, const float* scale,
                                  const float* offset, const DequantizeDesc& d) {
  switch (d.dtype) {
    case DType::f16: return half_to_float(static_cast<const uint16_t*>(q)[i]);
    case DType::bf16: return bfloat16_to_float(static_cast<const uint16_t*>(q)[i]);
    case DType::f32: return static_cast<const float*>(q)[i];
    case DType::u8: {
      const int64_t c = (i % d.row_elems) / (d.row_elems / d.channels);
      return offset[c] + scale[c] * static_cast<const uint8_t*>(q)[i];
    }
    default: return 0.f;
  }
}

}  // namespace ar1::kernels::math
