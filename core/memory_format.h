#pragma once
// Channels-last (NHWC) memory format for 4-D [N, C, H, W] tensors, as PyTorch's
// torch.channels_last: the logical shape stays NCHW, the strides are (H W C, 1, W C, C), so each
// pixel's channels are adjacent. CPU convolutions and Batch Renormalization run on it without
// layout reorders (kernels/conv2d.h); every other op sees an ordinary strided tensor.
#include "core/device.h"
#include "core/shape.h"

namespace ar1 {

class Tensor;

// Strides of a dense channels-last tensor of `shape` (4-D).
Strides channels_last_strides(const Shape& shape);

// True for a 4-D plain tensor whose non-unit dims have channels-last strides.
bool is_channels_last(const Tensor& t);

// Uninitialised dense channels-last f32 tensor.
Tensor empty_channels_last(const Shape& shape, Device device = Device::cpu());

// Dense transposes between [N, C, HW] and [N, HW, C] f32 buffers on the CPU.
void nchw_to_nhwc(float* dst, const float* src, int64_t n, int64_t c, int64_t hw);
void nhwc_to_nchw(float* dst, const float* src, int64_t n, int64_t c, int64_t hw);

}  // namespace ar1
