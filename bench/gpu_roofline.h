#pragma once
// A GPU's roofline, measured like the CPU's (bench/roofline.h): the fp32 FMA peak of our own
// probe kernel (independent FMA chains in every thread of every SM) and the triad bandwidth
// over arrays far beyond L2. Defined by gpu_roofline.cu where the CUDA backend is built, and
// by gpu_roofline_none.cpp (which throws naming the fix) where it is not.
#include <string>

#include "core/device.h"

namespace ar1::bench {

struct GpuRoof {
  double fma_gflops = 0;  // fp32, FMA counted as 2
  double triad_gbs = 0;   // a[i] = b[i] + s c[i], bytes that move once
  std::string name;       // the device, e.g. "NVIDIA H200 (sm_90, 132 SMs)"
};

// Measures for about `seconds` each (three repetitions, the best kept).
GpuRoof measure_gpu_roof(Device gpu, double seconds);

// GPU time of `work` (milliseconds), between events on the device's compute stream; waits.
class GpuTimer {
 public:
  explicit GpuTimer(Device gpu);
  ~GpuTimer();
  GpuTimer(const GpuTimer&) = delete;
  GpuTimer& operator=(const GpuTimer&) = delete;
  void start();
  double stop_ms();

 private:
  Device gpu_;
  void* start_ = nullptr;
  void* stop_ = nullptr;
};

}  // namespace ar1::bench
