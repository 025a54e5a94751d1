#include "kernels/cuda/conv2d_epilogue.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/math/depthwise_conv2d.h"

namespace ar1::kernels::cuda {

void conv2d_epilogue(Context& ctx, float* y, const float* bias, const ConvDesc& d) {
  const int64_t oh = d.oh(), ow = d.ow();
  for_each_index(ctx, d.n * d.c_out * oh * ow, [=] __device__(int64_t i) {
    float v = y[i];
    if (d.bias) v += bias[math::pixel_of(i, d.c_out, oh, ow, d.channels_last).c];
    y[i] = d.relu ? hd::max_of(v, 0.f) : v;
  }, "conv2d (bias, relu)");
}

}  // namespace ar1::kernels::cuda
