#pragma once
// Elementwise kernels on dense f32 buffers: ReLU and binary ops with broadcasting of the second
// operand over (outer, channels, inner): a is [outer, channels, inner]; b is the same shape,
// one value per channel, or a single value.
#include <cstdint>

#include "core/device.h"
#include "core/hd.h"

namespace ar1::kernels {

enum class BinaryOp : uint8_t { add, sub, mul };
enum class Broadcast : uint8_t { none, per_channel, scalar };

struct BinaryDesc {
  int64_t outer = 1, channels = 1, inner = 1;
  Broadcast b = Broadcast::none;
  BinaryOp op = BinaryOp::add;
  AR1_HD int64_t numel() const { return outer * channels * inner; }
};

// y = a op b (y may alias a).
void binary_forward(Device device, float* y, const float* a, const float* b, const BinaryDesc& d);
// y = max(x, 0); dx = dy where y > 0, else 0 (the saved output decides, so the kink x = 0
// gets gradient 0 as in PyTorch).
void relu_forward(Device device, float* y, const float* x, int64_t n);
void relu_backward(Device device, float* dx, const float* dy, const float* y, int64_t n);
// y = value everywhere.
void fill(Device device, float* y, float value, int64_t n);
// y = alpha * x (y may alias x).
void scale(Device device, float* y, const float* x, float alpha, int64_t n);

namespace cpu {
void binary_forward(float* y, const float* a, const float* b, const BinaryDesc& d);
void relu_forward(float* y, const float* x, int64_t n);
void relu_backward(float* dx, const float* dy, const float* y, int64_t n);
void fill(float* y, float value, int64_t n);
void scale(float* y, const float* x, float alpha, int64_t n);
}  // namespace cpu

namespace cuda {
void binary_forward(Device device, float* y, const float* a, const float* b, const BinaryDesc& d);
void relu_forward(Device device, float* y, const float* x, int64_t n);
void relu_backward(Device device, float* dx, const float* dy, const float* y, int64_t n);
void fill(Device device, float* y, float value, int64_t n);
void scale(Device device, float* y, const float* x, float alpha, int64_t n);
}  // namespace cuda

}  // namespace ar1::kernels
