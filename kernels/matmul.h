#pragma once
// Row-major f32 matrix product c [m, n] = op(a) op(b), op = transpose or not:
// a is [m, k] ([k, m] when trans_a), b is [k, n] ([n, k] when trans_b). c is overwritten.
#include <cstdint>

#include "core/device.h"

namespace ar1::kernels {

struct MatmulDesc {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
};

void matmul(Device device, float* c, const float* a, const float* b, const MatmulDesc& d);

namespace cpu {
void matmul(float* c, const float* a, const float* b, const MatmulDesc& d);
}  // namespace cpu

namespace cuda {
void matmul(Device device, float* c, const float* a, const float* b, const MatmulDesc& d);
}  // namespace cuda

}  // namespace ar1::kernels
