// Synaptic Intelligence's updates on a GPU, one thread per weight
// (kernels/math/synaptic_intelligence.h, the CPU's element math).
#include "kernels/cuda/launch.cuh"
#include "kernels/math/synaptic_intelligence.h"
#include "kernels/synaptic_intelligence.h"

namespace ar1::kernels::cuda {

void si_accumulate(Device device, float* trajectory, const float* grad, const float* now,
                   const float* before, int64_t n) {
  for_each_index(Context::get(device), n, [=] __device__(int64_t j) {
    trajectory[j] = math::si_trajectory_step(trajectory[j], grad[j], now[j], before[j]);
  }, "synaptic intelligence");
}

void si_consolidate(Device device, float* cumulative, float* importance, const float* theta,
                    const float* theta_star, const float* trajectory,
                    const SiConsolidateDesc& s) {
  for_each_index(Context::get(device), s.n, [=] __device__(int64_t j) {
    math::si_consolidate_element(cumulative + j, importance + j, theta[j], theta_star[j],
                                 trajectory[j], s);
  }, "synaptic intelligence");
}

}  // namespace ar1::kernels::cuda
