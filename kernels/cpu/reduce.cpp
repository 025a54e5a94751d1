#include "kernels/reduce.h"

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

}  // namespace ar1::kernels::cpu
