// Per-kernel benchmarks at MobileNetV1 shapes (batch given per case), forward and backward,
// reported with GFLOP/s. Run: build/bench/ar1_bench_kernels [--benchmark_filter=conv]
#include <benchmark/benchmark.h>

#include "core/rng.h"
#include "kernels/conv2d.h"
#include "kernels/matmul.h"
#include "kernels/threading.h"

namespace {

using namespace ar1;

// A conv of MobileNetV1: (n, c_in, spatial, c_out, kernel, stride, groups).
kernels::ConvDesc mobilenet_conv(const benchmark::State& s) {
  kernels::ConvDesc d;
  d.n = s.range(0), d.c_in = s.range(1), d.h = d.w = s.range(2), d.c_out = s.range(3);
  d.kh = d.kw = s.range(4), d.stride = s.range(5), d.groups = s.range(6);
  d.pad = d.kh / 2;
  return d;
}

double conv_flops(const kernels::ConvDesc& d) {
  return 2.0 * d.n * d.c_out * d.oh() * d.ow() * (d.c_in / d.groups) * d.kh * d.kw;
}

enum class Pass { forward, backward_data, backward_weights };

template <Pass pass>
void BM_conv2d(benchmark::State& state) {
  kernels::set_num_threads(0);
  const kernels::ConvDesc d = mobilenet_conv(state);
  Generator gen(0);
  Tensor x = normal({d.n, d.c_in, d.h, d.w}, gen);
  Tensor w = normal({d.c_out, d.c_in / d.groups, d.kh, d.kw}, gen);
  Tensor y = normal({d.n, d.c_out, d.oh(), d.ow()}, gen);
  for (auto _ : state) {
    if constexpr (pass == Pass::forward) {
      kernels::cpu::conv2d_forward(y.data<float>(), x.data<float>(), w.data<float>(), d);
    } else if constexpr (pass == Pass::backward_data) {
      kernels::cpu::conv2d_backward_data(x.data<float>(), y.data<float>(), w.data<float>(), d);
    } else {
      kernels::cpu::conv2d_backward_weights(w.data<float>(), y.data<float>(), x.data<float>(), d);
    }
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP"] = benchmark::Counter(conv_flops(d) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// Representative MobileNetV1 (alpha 1, 128 x 128) layers at batch 32: the stem, a depthwise
// and a pointwise at 64x64, 16x16 and 8x8.
void mobilenet_layers(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "cin", "hw", "cout", "k", "s", "g"});
  b->Args({32, 3, 128, 32, 3, 2, 1});
  b->Args({32, 32, 64, 32, 3, 1, 32});
  b->Args({32, 32, 64, 64, 1, 1, 1});
  b->Args({32, 256, 16, 256, 3, 1, 256});
  b->Args({32, 256, 16, 256, 1, 1, 1});
  b->Args({32, 512, 8, 512, 3, 1, 512});
  b->Args({32, 512, 8, 512, 1, 1, 1});
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_conv2d<Pass::forward>)->Apply(mobilenet_layers);
BENCHMARK(BM_conv2d<Pass::backward_data>)->Apply(mobilenet_layers);
BENCHMARK(BM_conv2d<Pass::backward_weights>)->Apply(mobilenet_layers);

void BM_matmul(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  Generator gen(0);
  Tensor a = normal({m, k}, gen), b = normal({k, n}, gen), c = Tensor::empty({m, n});
  for (auto _ : state) {
    kernels::cpu::matmul(c.data<float>(), a.data<float>(), b.data<float>(), {m, n, k});
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP"] = benchmark::Counter(2.0 * m * n * k * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_matmul)->Args({128, 50, 1024})->Args({512, 512, 512})->Unit(benchmark::kMicrosecond);

}  // namespace
