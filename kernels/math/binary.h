#pragma once
// One element of kernels/elementwise.h's ops: y[i] = a[i] op b[index of i], b broadcast per
// channel of (outer, channels, inner) or as one scalar.
#include "core/hd.h"
#include "kernels/elementwise.h"

namespace ar1::kernels::math {

AR1_HD inline int64_t broadcast_index(int64_t i, const BinaryDesc& d) {
  switch (d.b) {
    case Broadcast::none: return i;
    case Broadcast::per_channel: return (i / d.inner) % d.channels;
    case Broadcast::scalar: return 0;
  }
  return 0;
}

AR1_HD inline float binary_apply(BinaryOp op, float p, float q) {
  switch (op) {
    case BinaryOp::add: return p + q;
    case BinaryOp::sub: return p - q;
    case BinaryOp::mul: return p * q;
  }
  return 0.f;
}

AR1_HD inline float relu(float x) { return hd::max_of(x, 0.f); }
// The saved output decides: the kink x = 0 gets gradient 0, as in PyTorch.
AR1_HD inline float relu_grad(float dy, float y) { return y > 0.f ? dy : 0.f; }

}  // namespace ar1::kernels::math
