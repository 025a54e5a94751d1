#pragma once
// The CPU kernel sets this build has (kernels/cpu_kernels.h), for tests that run both.
#include <vector>

#include "kernels/cpu_kernels.h"
#include "kernels/device.h"

namespace ar1::testing {

inline std::vector<kernels::CpuKernels> cpu_kernel_sets() {
  if (!kernels::built_with_onednn()) return {kernels::CpuKernels::portable};
  return {kernels::CpuKernels::portable, kernels::CpuKernels::onednn};
}

// Sets a CPU kernel set for the scope, and puts the previous one back.
class ScopedCpuKernels {
 public:
  explicit ScopedCpuKernels(kernels::CpuKernels k) : saved_(kernels::cpu_kernels()) {
    kernels::set_cpu_kernels(k);
  }
  ~ScopedCpuKernels() { kernels::set_cpu_kernels(saved_); }
  ScopedCpuKernels(const ScopedCpuKernels&) = delete;
  ScopedCpuKernels& operator=(const ScopedCpuKernels&) = delete;

 private:
  kernels::CpuKernels saved_;
};

}  // namespace ar1::testing
