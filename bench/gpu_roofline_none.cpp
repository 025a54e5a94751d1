// A build without the CUDA backend: the GPU probes exist and say why they cannot run.
#include "bench/gpu_roofline.h"

#include "core/error.h"

namespace ar1::bench {

namespace {
[[noreturn]] void no_gpu() {
  AR1_FAIL("[gpu roofline] this build has no CUDA backend; rebuild where nvcc and cuDNN 9 are "
           "found");
}
}  // namespace

GpuRoof measure_gpu_roof(Device, double) { no_gpu(); }
GpuTimer::GpuTimer(Device gpu) : gpu_(gpu) { no_gpu(); }
GpuTimer::~GpuTimer() = default;
void GpuTimer::start() { no_gpu(); }
double GpuTimer::stop_ms() { no_gpu(); }

}  // namespace ar1::bench
