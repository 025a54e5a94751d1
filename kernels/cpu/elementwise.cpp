#include "kernels/elementwise.h"

#include "kernels/math/binary.h"

#include <algorithm>

namespace ar1::kernels::cpu {

namespace {
template <class F>
void apply(float* y, const float* a, const float* b, const BinaryDesc& d, F f) {
  const int64_t n = d.numel();
  switch (d.b) {
    case Broadcast::none:
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
      break;
    case Broadcast::scalar: {
      const float s = b[0];
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], s);
      break;
    }
    case Broadcast::per_channel:
#pragma omp parallel for collapse(2) schedule(static) if (n > 65536)
      for (int64_t o = 0; o < d.outer; ++o) {
        for (int64_t c = 0; c < d.channels; ++c) {
          const float s = b[c];
          const int64_t base = (o * d.channels + c) * d.inner;
          for (int64_t i = 0; i < d.inner; ++i) y[base + i] = f(a[base + i], s);
        }
      }
      break;
  }
}
}  // namespace

void binary_forward(float* y, const float* a, const float* b, const BinaryDesc& d) {
  switch (d.op) {
    // One instantiation per op, so each loop vectorises with the op known.
    case BinaryOp::add:
      apply(y, a, b, d, [](float p, float q) { return math::binary_apply(BinaryOp::add, p, q); });
      break;
    case BinaryOp::sub:
      apply(y, a, b, d, [](float p, float q) { return math::binary_apply(BinaryOp::sub, p, q); });
      break;
    case BinaryOp::mul:
      apply(y, a, b, d, [](float p, float q) { return math::binary_apply(BinaryOp::mul, p, q); });
      break;
  }
}

void relu_forward(float* y, const float* x, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = math::relu(x[i]);
}

void relu_backward(float* dx, const float* dy, const float* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dx[i] = math::relu_grad(dy[i], y[i]);
}

void fill(float* y, float value, int64_t n) { std::fill(y, y + n, value); }

void scale(float* y, const float* x, float alpha, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}

}  // namespace ar1::kernels::cpu
