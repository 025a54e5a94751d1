#pragma once
// One weight of Synaptic Intelligence's updates (kernels/synaptic_intelligence.h), shared by
// the CPU loops and the CUDA kernels.
#include "core/hd.h"
#include "kernels/synaptic_intelligence.h"

namespace ar1::kernels::math {

AR1_HD inline float si_trajectory_step(float trajectory, float grad, float now, float before) {
  return trajectory + grad * (now - before);
}

AR1_HD inline void si_consolidate_element(float* cumulative, float* importance, float theta,
                                          float theta_star, float trajectory,
                                          const SiConsolidateDesc& s) {
  const double d = static_cast<double>(theta) - theta_star;
  *cumulative = static_cast<float>(*cumulative + trajectory / (d * d + s.eps));
  *importance = static_cast<float>(hd::min_of(-static_cast<double>(*cumulative), s.max_importance));
}

}  // namespace ar1::kernels::math
