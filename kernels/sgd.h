#pragma once
// The SGD step of one dense f32 parameter, PyTorch's torch.optim.SGD without dampening or
// Nesterov: d = g + weight_decay w; v = first ? d : momentum v + d (when momentum != 0); w -= lr v.
#include <cstdint>

#include "core/device.h"

namespace ar1::kernels {

struct SgdDesc {
  int64_t n = 0;
  float lr = 0.f, momentum = 0.f, weight_decay = 0.f;
  bool first = false;  // the velocity buffer is new: v = d
};

// velocity is [n] when desc.momentum != 0, else ignored (may be null).
void sgd_update(Device device, float* w, float* velocity, const float* grad, const SgdDesc& desc);

namespace cpu {
void sgd_update(float* w, float* velocity, const float* grad, const SgdDesc& desc);
}  // namespace cpu
namespace cuda {
void sgd_update(Device device, float* w, float* velocity, const float* grad, const SgdDesc& desc);
}  // namespace cuda

}  // namespace ar1::kernels
