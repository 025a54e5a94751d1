#include "kernels/cpu_kernels.h"

#include <atomic>

#include "core/error.h"
#include "kernels/device.h"

namespace ar1::kernels {

namespace {
std::atomic<CpuKernels> g_cpu_kernels{default_cpu_kernels()};
}  // namespace

CpuKernels default_cpu_kernels() {
  return built_with_onednn() ? CpuKernels::onednn : CpuKernels::portable;
}

void set_cpu_kernels(CpuKernels k) {
  AR1_CHECK(k == CpuKernels::portable || built_with_onednn(),
            "[cpu-kernels] this build has no oneDNN (-DAR1_ONEDNN=OFF): use --cpu-kernels "
            "portable (config key cpu_kernels), or rebuild with -DAR1_ONEDNN=ON");
  g_cpu_kernels.store(k);
}

CpuKernels cpu_kernels() { return g_cpu_kernels.load(); }

std::string_view cpu_kernels_name(CpuKernels k) {
  return k == CpuKernels::onednn ? "onednn" : "portable";
}

CpuKernels parse_cpu_kernels(std::string_view name) {
  if (name == "portable") return CpuKernels::portable;
  if (name == "onednn") return CpuKernels::onednn;
  AR1_FAIL("[cpu-kernels] unknown CPU kernel set '", name, "': choose portable or onednn");
}

}  // namespace ar1::kernels
