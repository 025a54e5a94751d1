#pragma once
// Synaptic Intelligence's per-weight updates (SPEC.md; strategy/synaptic_intelligence.h):
// after each SGD step the path integral grows, trajectory += grad (now - before); after each
// experience the importance is consolidated:
//   cumulative += trajectory / ((theta - theta_star)^2 + eps), importance = min(-cumulative, max).
#include <cstdint>

#include "core/device.h"

namespace ar1::kernels {

struct SiConsolidateDesc {
  int64_t n = 0;
  double eps = 0.0, max_importance = 0.0;
};

void si_accumulate(Device device, float* trajectory, const float* grad, const float* now,
                   const float* before, int64_t n);
void si_consolidate(Device device, float* cumulative, float* importance, const float* theta,
                    const float* theta_star, const float* trajectory,
                    const SiConsolidateDesc& desc);

namespace cpu {
void si_accumulate(float* trajectory, const float* grad, const float* now, const float* before,
                   int64_t n);
void si_consolidate(float* cumulative, float* importance, const float* theta,
                    const float* theta_star, const float* trajectory,
                    const SiConsolidateDesc& desc);
}  // namespace cpu
namespace cuda {
void si_accumulate(Device device, float* trajectory, const float* grad, const float* now,
                   const float* before, int64_t n);
void si_consolidate(Device device, float* cumulative, float* importance, const float* theta,
                    const float* theta_star, const float* trajectory,
                    const SiConsolidateDesc& desc);
}  // namespace cuda

}  // namespace ar1::kernels
