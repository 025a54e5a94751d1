// The portable GEMM (kernels/cpu/portable/gemm.h) against Eigen's product, both on one thread,
// at the shapes ar1's linear layers and 1x1 convolutions produce. Reports GFLOP/s and, as
// pct_fma, the fraction of this core's measured FMA peak (bench/roofline.h).
//
// Run:  ar1_bench_portable_gemm [--benchmark_filter=portable]
// Add a shape: one more row in kShapes (m, n, k, trans_a, trans_b); both sides get it.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/roofline.h"
#include "kernels/cpu/portable/gemm.h"

namespace {

namespace portable = ar1::kernels::cpu::portable;

const std::vector<std::vector<int64_t>> kShapes = {
    {2048, 256, 256, 0, 1},  {2048, 256, 256, 0, 0},   {256, 256, 2048, 1, 0},
    {512, 512, 512, 0, 0},   {128, 1024, 1024, 0, 1},  {128, 1024, 1024, 0, 0},
    {1024, 1024, 128, 1, 0}, {64, 10, 1024, 0, 1},     {9, 1024, 2048, 0, 0},
};

// One core's FMA peak, measured in main before any benchmark runs.
double g_fma_peak_gflops = 0;

// Inputs in [-1, 1) from a fixed linear congruential generator.
std::vector<float> inputs(int64_t count, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = float(seed >> 8) * 0x1p-23f - 1.f;
  }
  return v;
}

struct Problem {
  portable::GemmDesc d;
  std::vector<float> a, b, c;
  explicit Problem(const benchmark::State& state) {
    d.m = state.range(0);
    d.n = state.range(1);
    d.k = state.range(2);
    d.trans_a = state.range(3) != 0;
    d.trans_b = state.range(4) != 0;
    d.lda = d.trans_a ? d.m : d.k;
    d.ldb = d.trans_b ? d.k : d.n;
    d.ldc = d.n;
    a = inputs(d.m * d.k, 1);
    b = inputs(d.k * d.n, 2);
    c.assign(size_t(d.m * d.n), 0.f);
  }
};

void report(benchmark::State& state, const portable::GemmDesc& d) {
  const double flops = 2.0 * double(d.m) * double(d.n) * double(d.k) * double(state.iterations());
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsRate);
  state.counters["pct_fma"] =
      benchmark::Counter(flops * 1e-9 / g_fma_peak_gflops, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(d.trans_a ? "T" : "F") + (d.trans_b ? "T" : "F"));
}

void BM_portable_gemm(benchmark::State& state) {
  Problem p(state);
  for (auto _ : state) {
    portable::gemm(p.c.data(), p.a.data(), p.b.data(), p.d);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  report(state, p.d);
}

void BM_eigen_gemm(benchmark::State& state) {
  Eigen::setNbThreads(1);  // in case the build enables OpenMP
  Problem p(state);
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const portable::GemmDesc& d = p.d;
  Eigen::Map<const RowMajor> A(p.a.data(), d.trans_a ? d.k : d.m, d.trans_a ? d.m : d.k);
  Eigen::Map<const RowMajor> B(p.b.data(), d.trans_b ? d.n : d.k, d.trans_b ? d.k : d.n);
  Eigen::Map<RowMajor> C(p.c.data(), d.m, d.n);
  for (auto _ : state) {
    if (d.trans_a && d.trans_b) {
      C.noalias() = A.transpose() * B.transpose();
    } else if (d.trans_a) {
      C.noalias() = A.transpose() * B;
    } else if (d.trans_b) {
      C.noalias() = A * B.transpose();
    } else {
      C.noalias() = A * B;
    }
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  report(state, d);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k", "ta", "tb"});
  for (const auto& s : kShapes) b->Args(s);
}

}  // namespace

BENCHMARK(BM_portable_gemm)->Apply(shapes);
BENCHMARK(BM_eigen_gemm)->Apply(shapes);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  g_fma_peak_gflops = ar1::bench::measure_fma_gflops(1, 0.3);
  benchmark::AddCustomContext("fma_peak_gflops_1_thread", std::to_string(g_fma_peak_gflops));
  benchmark::AddCustomContext("portable_gemm_isa", portable::gemm_isa());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
