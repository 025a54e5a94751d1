// CWR*'s consolidation on a GPU: the mean of the trained rows in the fixed order of
// kernels/cuda/channel_reduction.cuh (the CPU sums row by row: equal up to rounding), then one
// thread per entry (kernels/math/cwr_star.h, the CPU's element math).
#include "kernels/cuda/channel_reduction.cuh"
#include "kernels/cwr_star.h"
#include "kernels/math/cwr_star.h"

namespace ar1::kernels::cuda {

void cwr_consolidate(Device device, float* saved, const float* w, const int64_t* row_index,
                     const double* row_weight, const CwrDesc& d) {
  Context& ctx = Context::get(device);
  Scratch mean(ctx, sizeof(double));
  double* avg = mean.as<double>();
  const int64_t features = d.features, count = d.rows * d.features;
  channel_reduce(
      ctx, 1, count,
      [=] __device__(int64_t, int64_t j) {
        return TermPair{static_cast<double>(w[row_index[j / features] * features + j % features]),
                        0.0};
      },
      [=] __device__(int64_t, double sum, double) {
        *avg = count == 0 ? 0.0 : sum / static_cast<double>(count);
      },
      "cwr*");
  for_each_index(ctx, count, [=] __device__(int64_t j) {
    const int64_t r = j / features, k = row_index[r] * features + j % features;
    saved[k] = math::cwr_consolidated(saved[k], w[k], *avg, row_weight[r]);
  }, "cwr*");
}

}  // namespace ar1::kernels::cuda
