#pragma once
// Our own depthwise convolution kernels (kernels/cuda/depthwise_conv2d.cu), which the CUDA
// convolution entry points (kernels/cuda/conv2d.cpp) use for every depthwise shape that
// math::depthwise_supported accepts; the rest go to cuDNN.
#include "kernels/conv2d.h"

namespace ar1::kernels::cuda {

class Context;

void depthwise_forward(Context& ctx, float* y, const float* x, const float* w, const float* bias,
                       const ConvDesc& d);
void depthwise_backward_data(Context& ctx, float* dx, const float* dy, const float* w,
                             const ConvDesc& d);
void depthwise_backward_weights(Context& ctx, float* dw, const float* dy, const float* x,
                                const ConvDesc& d);

}  // namespace ar1::kernels::cuda
