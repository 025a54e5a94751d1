#include "kernels/synaptic_intelligence.h"

#include "kernels/math/synaptic_intelligence.h"

namespace ar1::kernels::cpu {

void si_accumulate(float* trajectory, const float* grad, const float* now, const float* before,
                   int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    trajectory[j] = math::si_trajectory_step(trajectory[j], grad[j], now[j], before[j]);
  }
}

void si_consolidate(float* cumulative, float* importance, const float* theta,
                    const float* theta_star, const float* trajectory,
                    const SiConsolidateDesc& desc) {
  for (int64_t j = 0; j < desc.n; ++j) {
    math::si_consolidate_element(cumulative + j, importance + j, theta[j], theta_star[j],
                                 trajectory[j], desc);
  }
}

}  // namespace ar1::kernels::cpu
