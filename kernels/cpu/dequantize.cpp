#include "kernels/dequantize.h"

#include "kernels/math/dequantize.h"

namespace ar1::kernels::cpu {

void dequantize_rows(float* out, const void* q, const float* scale, const float* offset,
                     const DequantizeDesc& desc) {
  const int64_t n = desc.rows * desc.row_elems;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) out[i] = math::dequantize_at(i, q, scale, offset, desc);
}

}  // namespace ar1::kernels::cpu
