#include "kernels/cwr_star.h"

#include "kernels/math/cwr_star.h"

namespace ar1::kernels::cpu {

void cwr_consolidate(float* saved, const float* w, const int64_t* row_index,
                     const double* row_weight, const CwrDesc& d) {
  // avg: the mean of every entry of the trained rows, summed row by row in double.
  double sum = 0;
  for (int64_t r = 0; r < d.rows; ++r) {
    for (int64_t f = 0; f < d.features; ++f) sum += w[row_index[r] * d.features + f];
  }
  const double avg = d.rows == 0 ? 0.0 : sum / static_cast<double>(d.rows * d.features);
  for (int64_t r = 0; r < d.rows; ++r) {
    const int64_t base = row_index[r] * d.features;
    for (int64_t f = 0; f < d.features; ++f) {
      saved[base + f] = math::cwr_consolidated(saved[base + f], w[base + f], avg, row_weight[r]);
    }
  }
}

}  // namespace ar1::kernels::cpu
