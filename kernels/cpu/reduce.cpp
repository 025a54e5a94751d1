#include "kernels/reduce.h"

#include <algorithm>
#include <cstdint>

namespace ar1::kernels::cpu {

void sum_all(float* y, const float* x, int64_t n) {
  // Sequential, double accumulator: the same bits whatever the thread count.
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) acc += x[i];
  *y = static_cast<float>(acc);
}

void channel_sum(float* y, const float* x, const ChannelSumDesc& d) {
  // Each channel is summed by one thread in a fixed order, so threads do not change the bits.
#pragma omp parallel for schedule(static) if (d.outer * d.channels * d.inner > 65536)
  for (int64_t c = 0; c < d.channels; ++c) {
    double acc = 0.0;
    for (int64_t o = 0; o < d.outer; ++o) {
      const float* p = x + (o * d.channels + c) * d.inner;
      for (int64_t i = 0; i < d.inner; ++i) acc += p[i];
    }
    y[c] = static_cast<float>(acc);
  }
}

bool any_nonfinite(const float* x, int64_t n) {
  // The largest masked exponent: all ones (0x7f800000) only for NaN and infinity. A max over
  // integers vectorises and threads without changing the answer.
  const auto* bits = reinterpret_cast<const uint32_t*>(x);
  uint32_t top = 0;
#pragma omp parallel for simd schedule(static) reduction(max : top) if (n > 262144)
  for (int64_t i = 0; i < n; ++i) top = std::max(top, bits[i] & 0x7f800000u);
  return top == 0x7f800000u;
}

}  // namespace ar1::kernels::cpu
