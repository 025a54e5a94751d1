#pragma once
// Shared by the benchmark binaries: the run configuration read from the environment, the
// measured roofline every result is compared with, the counters every benchmark reports, and
// MobileNetV1's conv table (SPEC.md section 1) for shapes and FLOP counts.
//
// Environment:
//   AR1_BENCH_SMOKE=1    tiny batches and data (CTest's bench.*_smoke: checks that every
//                        benchmark still builds and runs, measures nothing)
//   AR1_BENCH_THREADS=k  threads for every kernel (default: all cores)
//
// To add a benchmark: write a function of (benchmark::State&, ...) that runs the work inside
// `for (auto _ : state)` between Timer's construction and report(), and register it in the
// binary's register_all() (explicit registration, so the sizes can follow the environment).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "bench/gpu_roofline.h"
#include "bench/roofline.h"
#include "kernels/conv2d.h"
#include "kernels/device.h"
#include "kernels/threading.h"

namespace ar1::bench {

inline bool smoke() {
  const char* v = std::getenv("AR1_BENCH_SMOKE");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

// Sets and returns the kernel thread count (AR1_BENCH_THREADS, else every core).
inline int configure_threads() {
  const char* v = std::getenv("AR1_BENCH_THREADS");
  kernels::set_num_threads(v != nullptr ? std::atoi(v) : 0);
  return kernels::num_threads();
}

// This machine's fp32 FMA peak and triad bandwidth on the benchmark's threads, measured once.
struct Roof {
  double gflops = 0, gbs = 0;
};
inline const Roof& roof() {
  static const Roof r = [] {
    const int t = kernels::num_threads();
    const double seconds = smoke() ? 0.02 : 0.3;
    Roof out{measure_fma_gflops(t, seconds), measure_triad_gbs(t, seconds)};
    benchmark::AddCustomContext("fma_peak_gflops", std::to_string(out.gflops));
    benchmark::AddCustomContext("triad_gbs", std::to_string(out.gbs));
    benchmark::AddCustomContext("fma_isa", fma_isa());
    benchmark::AddCustomContext("threads", std::to_string(t));
    return out;
  }();
  return r;
}

// Wall time of the timed loop, measured by the benchmark itself so that it can report the
// fraction of the roofline (Google Benchmark's own rates are not visible from inside).
class Timer {
 public:
  Timer() : t0_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};

// GPU 0's fp32 FMA peak and triad bandwidth (bench/gpu_roofline.h), measured once.
inline const GpuRoof& gpu_roof() {
  static const GpuRoof r = [] {
    const GpuRoof out = measure_gpu_roof(Device::cuda(0), smoke() ? 0.02 : 0.3);
    benchmark::AddCustomContext("gpu", out.name);
    benchmark::AddCustomContext("gpu_fma_peak_gflops", std::to_string(out.fma_gflops));
    benchmark::AddCustomContext("gpu_triad_gbs", std::to_string(out.triad_gbs));
    benchmark::AddCustomContext("gpu_versions", kernels::cuda_versions());
    return out;
  }();
  return r;
}

// Counters per iteration over `seconds` of timed work: GFLOP and GB (bytes that move at least
// once) as rates, and pct_fma / pct_bw, the achieved fraction of the given peaks in percent.
inline void report_rates(benchmark::State& state, double seconds, double flops, double bytes,
                         double peak_gflops, double peak_gbs) {
  const auto iters = static_cast<double>(state.iterations());
  using C = benchmark::Counter;
  if (flops > 0) {
    state.counters["GFLOP"] = C(flops * 1e-9, C::kIsIterationInvariantRate);
    const double pct = 100.0 * flops * iters / seconds * 1e-9 / peak_gflops;
    state.counters["pct_fma"] = pct;
    // Above 100 % either the peak or the FLOP count is wrong: say so where it is printed.
    if (pct > 100.0) {
      state.SetLabel("pct_fma above 100: peak " + std::to_string(peak_gflops) +
                     " GFLOP/s is too low or the FLOP count too high");
    }
  }
  if (bytes > 0) {
    state.counters["GB"] = C(bytes * 1e-9, C::kIsIterationInvariantRate);
    state.counters["pct_bw"] = 100.0 * bytes * iters / seconds * 1e-9 / peak_gbs;
  }
}

// report_rates against this machine's CPU roofline.
inline void report(benchmark::State& state, const Timer& timer, double flops, double bytes) {
  report_rates(state, timer.seconds(), flops, bytes, roof().gflops, roof().gbs);
}

// ---------------------------------------------------------------- MobileNetV1 (SPEC.md 1)

// One conv of the table at width multiplier 1: kernel 3 stride 2 (init), dw 3x3, or pw 1x1.
struct MobileNetLayer {
  enum Kind { init, dw, pw } kind;
  int64_t out;
  int64_t stride;
};

inline const std::vector<MobileNetLayer>& mobilenet_table() {
  static const std::vector<MobileNetLayer> t = [] {
    std::vector<MobileNetLayer> v{{MobileNetLayer::init, 32, 2}};
    auto block = [&](int64_t dw_out, int64_t stride, int64_t pw_out) {
      v.push_back({MobileNetLayer::dw, dw_out, stride});
      v.push_back({MobileNetLayer::pw, pw_out, 1});
    };
    block(32, 1, 64);
    block(64, 2, 128);
    block(128, 1, 128);
    block(128, 2, 256);
    block(256, 1, 256);
    block(256, 2, 512);
    for (int i = 0; i < 5; ++i) block(512, 1, 512);
    block(512, 2, 1024);
    block(1024, 1, 1024);
    return v;
  }();
  return t;
}

// The 27 convs of MobileNetV1 alpha 1 on n images of input x input, in layer order.
inline std::vector<kernels::ConvDesc> mobilenet_convs(int64_t n, int64_t input) {
  std::vector<kernels::ConvDesc> out;
  int64_t c = 3, h = input;
  for (const MobileNetLayer& l : mobilenet_table()) {
    kernels::ConvDesc d;
    d.n = n, d.c_in = c, d.h = d.w = h, d.c_out = l.out, d.stride = l.stride;
    d.kh = d.kw = l.kind == MobileNetLayer::pw ? 1 : 3;
    d.pad = d.kh / 2;
    d.groups = l.kind == MobileNetLayer::dw ? c : 1;
    out.push_back(d);
    c = l.out, h = d.oh();
  }
  return out;
}

inline double conv_flops(const kernels::ConvDesc& d) {
  return 2.0 * d.n * d.c_out * d.oh() * d.ow() * (d.c_in / d.groups) * d.kh * d.kw;
}

// The distinct convs of mobilenet_convs(n, input), in layer order.
inline std::vector<kernels::ConvDesc> distinct_mobilenet_convs(int64_t n, int64_t input) {
  std::vector<kernels::ConvDesc> convs;
  for (const kernels::ConvDesc& d : mobilenet_convs(n, input)) {
    if (std::find(convs.begin(), convs.end(), d) == convs.end()) convs.push_back(d);
  }
  return convs;
}

// Every distinct activation shape [c, hw] the convs produce.
inline std::vector<std::pair<int64_t, int64_t>> activation_shapes(
    const std::vector<kernels::ConvDesc>& convs) {
  std::vector<std::pair<int64_t, int64_t>> acts;
  for (const kernels::ConvDesc& d : convs) {
    const std::pair<int64_t, int64_t> a{d.c_out, d.oh() * d.ow()};
    if (std::find(acts.begin(), acts.end(), a) == acts.end()) acts.push_back(a);
  }
  return acts;
}

// "pw_s1/c64to128_hw32": kind, stride, channels and input side.
inline std::string conv_name(const kernels::ConvDesc& d) {
  std::string kind = d.groups > 1 ? "dw" : d.kh == 1 ? "pw" : "dense";
  kind += "_s" + std::to_string(d.stride);
  return kind + "/c" + std::to_string(d.c_in) + "to" + std::to_string(d.c_out) + "_hw" +
         std::to_string(d.h);
}

}  // namespace ar1::bench
