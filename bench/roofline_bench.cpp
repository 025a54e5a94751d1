// This machine's roofline on the threads the other benchmarks use: the fp32 FMA peak (widest
// FMA the CPU has, chosen at run time), the AVX512_BF16 dot-product peak and the AMX bf16 tile
// peak where the CPU has them, and the streaming bandwidth (copy and triad over arrays four times the L3). Read every
// kernel's GFLOP/s and GB/s against these (the other binaries print pct_fma / pct_bw too).
//
// Run:  build/bench/ar1_bench_roofline      (threads: 1 and AR1_BENCH_THREADS or all cores)
//       AR1_BENCH_SMOKE=1 ... small arrays (CTest bench.roofline_smoke).
#include <benchmark/benchmark.h>

#include <string>

#include "bench/bench_common.h"
#include "bench/roofline.h"

namespace {

using namespace ar1;

// One benchmark iteration: `iters` rounds on every thread (a few ms), so the runner sizes the
// measurement; GFLOP counts every thread's work.
constexpr int64_t kRounds = 1 << 20;

void BM_fma_peak(benchmark::State& state, int threads) {
  double flops = 0;
  for (auto _ : state) flops = bench::fma_loop(threads, kRounds);
  state.counters["GFLOP"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/thread"] = benchmark::Counter(
      flops * 1e-9 / threads, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(bench::fma_isa());
}

void BM_bf16_peak(benchmark::State& state, int threads) {
  double flops = 0;
  for (auto _ : state) flops = bench::bf16_loop(threads, kRounds);
  state.counters["GFLOP"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("avx512_bf16 vdpbf16ps");
}

void BM_amx_peak(benchmark::State& state, int threads) {
  double flops = 0;
  for (auto _ : state) flops = bench::amx_bf16_loop(threads, kRounds / 16);
  state.counters["GFLOP"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("amx tdpbf16ps");
}

void BM_stream(benchmark::State& state, int threads, bool triad) {
  const size_t bytes = bench::smoke() ? (size_t{4} << 20) : (size_t{128} << 20);
  bench::StreamArrays arrays(bytes, threads);
  double moved = triad ? arrays.triad() : arrays.copy();  // pages mapped before timing
  for (auto _ : state) moved = triad ? arrays.triad() : arrays.copy();
  state.counters["GB"] =
      benchmark::Counter(moved * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(bytes >> 20) + " MiB per array");
}

void register_all(int threads) {
  std::vector<int> counts{1};
  if (threads > 1) counts.push_back(threads);
  for (const int t : counts) {
    const std::string s = "/threads:" + std::to_string(t);
    benchmark::RegisterBenchmark(("fma_f32_peak" + s).c_str(), BM_fma_peak, t)->UseRealTime();
    if (bench::has_avx512_bf16()) {
      benchmark::RegisterBenchmark(("bf16_dot_peak" + s).c_str(), BM_bf16_peak, t)->UseRealTime();
    }
    if (bench::has_amx_bf16()) {
      benchmark::RegisterBenchmark(("amx_bf16_peak" + s).c_str(), BM_amx_peak, t)->UseRealTime();
    }
    benchmark::RegisterBenchmark(("stream_copy" + s).c_str(), BM_stream, t, false)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("stream_triad" + s).c_str(), BM_stream, t, true)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const int threads = ar1::bench::configure_threads();
  benchmark::AddCustomContext("fma_isa", ar1::bench::fma_isa());
  benchmark::AddCustomContext("avx512_bf16", ar1::bench::has_avx512_bf16() ? "yes" : "no");
  benchmark::AddCustomContext("threads", std::to_string(threads));
  register_all(threads);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
