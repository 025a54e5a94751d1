// ReLU, binary ops with broadcast, fill and scale on a GPU; the per-element math is the CPU's
// (kernels/math/binary.h).
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise.h"
#include "kernels/math/binary.h"

namespace ar1::kernels::cuda {

void binary_forward(Device device, float* y, const float* a, const float* b, const BinaryDesc& d) {
  for_each_index(Context::get(device), d.numel(), [=] __device__(int64_t i) {
    y[i] = math::binary_apply(d.op, a[i], b[math::broadcast_index(i, d)]);
  }, "binary op");
}

void relu_forward(Device device, float* y, const float* x, int64_t n) {
  for_each_index(Context::get(device), n, [=] __device__(int64_t i) { y[i] = math::relu(x[i]); },
                 "relu");
}

void relu_backward(Device device, float* dx, const float* dy, const float* y, int64_t n) {
  for_each_index(Context::get(device), n, [=] __device__(int64_t i) {
    dx[i] = math::relu_grad(dy[i], y[i]);
  }, "relu backward");
}

void fill(Device device, float* y, float value, int64_t n) {
  for_each_index(Context::get(device), n, [=] __device__(int64_t i) { y[i] = value; }, "fill");
}

void scale(Device device, float* y, const float* x, float alpha, int64_t n) {
  for_each_index(Context::get(device), n, [=] __device__(int64_t i) { y[i] = alpha * x[i]; },
                 "scale");
}

}  // namespace ar1::kernels::cuda
