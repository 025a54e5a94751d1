#pragma once
// Reductions on dense f32 buffers. Sums run in a fixed order with double accumulators, so the
// result does not depend on the thread count (bit-identical runs). The CUDA twins sum in a
// fixed order too (a fixed grid and tree), not the CPU's: results agree to rounding.
#include <cstdint>

#include "core/device.h"

namespace ar1::kernels {

// x is [outer, channels, inner]; y[c] = sum over outer and inner of x.
struct ChannelSumDesc {
  int64_t outer = 1, channels = 1, inner = 1;
};

// *y = sum of x[0..n)
void sum_all(Device device, float* y, const float* x, int64_t n);
void channel_sum(Device device, float* y, const float* x, const ChannelSumDesc& d);
// Whether any of x[0..n) is a NaN or an infinity (exponent bits all ones); waits for the device.
bool any_nonfinite(Device device, const float* x, int64_t n);

namespace cpu {
void sum_all(float* y, const float* x, int64_t n);
void channel_sum(float* y, const float* x, const ChannelSumDesc& d);
bool any_nonfinite(const float* x, int64_t n);
}  // namespace cpu

namespace cuda {
void sum_all(Device device, float* y, const float* x, int64_t n);
void channel_sum(Device device, float* y, const float* x, const ChannelSumDesc& d);
bool any_nonfinite(Device device, const float* x, int64_t n);
}  // namespace cuda

}  // namespace ar1::kernels
