// The replay memory's rows back to f32 on a GPU, one thread per element
// (kernels/math/dequantize.h, the CPU's element math).
#include "kernels/cuda/launch.cuh"
#include "kernels/dequantize.h"
#include "kernels/math/dequantize.h"

namespace ar1::kernels::cuda {

void dequantize_rows(Device device, float* out, const void* q, const float* scale,
                     const float* offset, const DequantizeDesc& d) {
  for_each_index(Context::get(device), d.rows * d.row_elems, [=] __device__(int64_t i) {
    out[i] = math::dequantize_at(i, q, scale, offset, d);
  }, "replay dequantize");
}

}  // namespace ar1::kernels::cuda
