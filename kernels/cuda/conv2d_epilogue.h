#pragma once
// The fused epilogue of ConvDesc after a cuDNN convolution: y += bias[c] (when d.bias), then
// ReLU (when d.relu), in place, as oneDNN's post-ops do on the CPU.
#include "kernels/conv2d.h"

namespace ar1::kernels::cuda {

class Context;

void conv2d_epilogue(Context& ctx, float* y, const float* bias, const ConvDesc& d);

}  // namespace ar1::kernels::cuda
