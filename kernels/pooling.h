#pragma once
// Average pooling without padding on dense f32 NCHW: x [n, c, h, w] -> y [n, c, oh, ow];
// global pooling is kh = h, kw = w.
#include <cstdint>

#include "core/device.h"
#include "core/hd.h"

namespace ar1::kernels {

struct AvgPoolDesc {
  int64_t n = 0, c = 0, h = 0, w = 0;
  int64_t kh = 1, kw = 1, stride = 1;
  AR1_HD int64_t oh() const { return (h - kh) / stride + 1; }
  AR1_HD int64_t ow() const { return (w - kw) / stride + 1; }
};

void avg_pool2d_forward(Device device, float* y, const float* x, const AvgPoolDesc& d);
// dx is overwritten.
void avg_pool2d_backward(Device device, float* dx, const float* dy, const AvgPoolDesc& d);

namespace cpu {
void avg_pool2d_forward(float* y, const float* x, const AvgPoolDesc& d);
void avg_pool2d_backward(float* dx, const float* dy, const AvgPoolDesc& d);
}  // namespace cpu

namespace cuda {
void avg_pool2d_forward(Device device, float* y, const float* x, const AvgPoolDesc& d);
void avg_pool2d_backward(Device device, float* dx, const float* dy, const AvgPoolDesc& d);
}  // namespace cuda

}  // namespace ar1::kernels
