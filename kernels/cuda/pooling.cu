// Average pooling on a GPU: one thread per output (forward) or input (backward) element; the
// element math is the CPU's order of sums (kernels/math/avg_pool2d.h).
#include "kernels/cuda/launch.cuh"
#include "kernels/math/avg_pool2d.h"
#include "kernels/pooling.h"

namespace ar1::kernels::cuda {

void avg_pool2d_forward(Device device, float* y, const float* x, const AvgPoolDesc& d) {
  for_each_index(Context::get(device), d.n * d.c * d.oh() * d.ow(), [=] __device__(int64_t i) {
    y[i] = math::avg_pool2d_forward_at(i, x, d);
  }, "avg_pool2d");
}

void avg_pool2d_backward(Device device, float* dx, const float* dy, const AvgPoolDesc& d) {
  for_each_index(Context::get(device), d.n * d.c * d.h * d.w, [=] __device__(int64_t i) {
    dx[i] = math::avg_pool2d_backward_at(i, dy, d);
  }, "avg_pool2d backward");
}

}  // namespace ar1::kernels::cuda
