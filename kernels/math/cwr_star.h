#pragma once
// One entry of CWR*'s consolidation (kernels/cwr_star.h), shared by the CPU loop and the CUDA
// kernel.
#include "core/hd.h"

namespace ar1::kernels::math {

AR1_HD inline float cwr_consolidated(float saved, float w, double avg, double p) {
  const double w_new = w - avg;
  if (p < 0.0) return static_cast<float>(w_new);
  return static_cast<float>((saved * p + w_new) / (p + 1));
}

}  // namespace ar1::kernels::math
