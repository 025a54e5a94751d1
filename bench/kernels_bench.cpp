// Per-kernel benchmarks at MobileNetV1's real shapes (alpha 1.0, 3 x 128 x 128 input, batch
// 128; SPEC.md section 1): every distinct conv forward / backward-data / backward-weights,
// BatchReNorm forward (train, eval) and backward with and without the fused ReLU at every
// activation shape, global pooling, the 1024 -> 50 linear, cross-entropy and the SGD update.
// Each reports GFLOP/s and GB/s (bytes that move at least once) and, as pct_fma / pct_bw,
// the fraction of this machine's measured FMA peak and triad bandwidth (bench/roofline.h).
//
// Run:  build/bench/ar1_bench_kernels [--benchmark_filter=conv2d_fwd]
//       AR1_BENCH_SMOKE=1 ... runs everything at batch 2 (CTest bench.kernels_smoke).
//       AR1_BENCH_INPUT=32 ... the shapes of a 32 x 32 input instead of 128 x 128.
// Add a kernel: write BM_<kernel>(state, shape...) and register it in register_all().
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_common.h"
#include "core/grad_mode.h"
#include "core/rng.h"
#include "kernels/batch_renorm.h"
#include "kernels/conv2d.h"
#include "kernels/cpu_kernels.h"
#include "kernels/cross_entropy.h"
#include "kernels/matmul.h"
#include "kernels/pooling.h"
#include "nn/models/mobilenet_v1.h"
#include "nn/optim/sgd.h"

namespace {

using namespace ar1;
using bench::report;
using bench::Timer;

constexpr float kBytes = sizeof(float);

// ---------------------------------------------------------------- conv2d

enum class Pass { forward, backward_data, backward_weights };

void BM_conv2d(benchmark::State& state, Pass pass, kernels::ConvDesc d,
               kernels::CpuKernels set) {
  kernels::set_cpu_kernels(set);
  Generator gen(0);
  Tensor x = normal({d.n, d.c_in, d.h, d.w}, gen);
  Tensor w = normal({d.c_out, d.c_in / d.groups, d.kh, d.kw}, gen);
  Tensor y = normal({d.n, d.c_out, d.oh(), d.ow()}, gen);
  auto run = [&] {
    switch (pass) {
      case Pass::forward:
        kernels::cpu::conv2d_forward(y.data<float>(), x.data<float>(), w.data<float>(), d);
        break;
      case Pass::backward_data:
        kernels::cpu::conv2d_backward_data(x.data<float>(), y.data<float>(), w.data<float>(), d);
        break;
      case Pass::backward_weights:
        kernels::cpu::conv2d_backward_weights(w.data<float>(), y.data<float>(), x.data<float>(),
                                              d);
        break;
    }
  };
  run();  // builds and caches the primitive outside the timing
  Timer timer;
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  // Every pass touches x (or dx), w (or dw) and y (or dy) once.
  report(state, timer, bench::conv_flops(d),
         kBytes * static_cast<double>(x.numel() + w.numel() + y.numel()));
  kernels::set_cpu_kernels(kernels::default_cpu_kernels());
}

// ---------------------------------------------------------------- BatchReNorm

enum class BrnPass { train_forward, eval_forward, backward };

void BM_batch_renorm(benchmark::State& state, BrnPass pass, int64_t n, int64_t c, int64_t hw,
                     bool relu, bool channels_last) {
  kernels::BatchReNormDesc d;
  d.n = n, d.c = c, d.hw = hw, d.relu = relu, d.channels_last = channels_last;
  d.r_max = 1.25f, d.d_max = 0.5f, d.momentum = 0.01f;
  d.training = pass != BrnPass::eval_forward;
  Generator gen(0);
  Tensor x = normal({n, c, hw}, gen), y = Tensor::empty({n, c, hw});
  Tensor dy = normal({n, c, hw}, gen), dx = Tensor::empty({n, c, hw});
  Tensor gamma = Tensor::ones({c}), beta = Tensor::zeros({c});
  Tensor rmean = Tensor::zeros({c}), rstd = Tensor::ones({c});
  Tensor dgamma = Tensor::empty({c}), dbeta = Tensor::empty({c});
  std::vector<Tensor> saved_t;
  for (int i = 0; i < 5; ++i) saved_t.push_back(Tensor::empty({c}));
  Tensor affine = Tensor::empty({2 * c});  // as training saves it: the ReLU's mask from x
  kernels::BatchReNormSaved saved{saved_t[0].data<float>(), saved_t[1].data<float>(),
                                  saved_t[2].data<float>(), saved_t[3].data<float>(),
                                  saved_t[4].data<float>(), affine.data<float>()};
  auto train_forward = [&] {
    kernels::cpu::batch_renorm_train_forward(y.data<float>(), saved, rmean.data<float>(),
                                             rstd.data<float>(), x.data<float>(),
                                             gamma.data<float>(), beta.data<float>(), d);
  };
  train_forward();  // saved statistics and y for the backward
  const double elems = static_cast<double>(n * c * hw);
  double flops = 0, arrays = 0;
  Timer timer;
  switch (pass) {
    case BrnPass::train_forward:
      for (auto _ : state) {
        train_forward();
        benchmark::ClobberMemory();
      }
      flops = 5 * elems, arrays = 2;  // sum, sum of squares (3); scale and shift (2)
      break;
    case BrnPass::eval_forward:
      for (auto _ : state) {
        kernels::cpu::batch_renorm_eval_forward(y.data<float>(), x.data<float>(),
                                                gamma.data<float>(), beta.data<float>(),
                                                rmean.data<float>(), rstd.data<float>(), d);
        benchmark::ClobberMemory();
      }
      flops = 2 * elems, arrays = 2;
      break;
    case BrnPass::backward:
      for (auto _ : state) {
        kernels::cpu::batch_renorm_backward(dx.data<float>(), dgamma.data<float>(),
                                            dbeta.data<float>(), dy.data<float>(),
                                            x.data<float>(), y.data<float>(), gamma.data<float>(),
                                            saved.mean, saved.inv_std, saved.r, saved.d, d,
                                            saved.affine);
        benchmark::ClobberMemory();
      }
      // xh (2), the two channel sums (3), dx (4); reads dy and x (the ReLU's mask recomputed
      // from x), writes dx.
      flops = 9 * elems, arrays = 3;
      break;
  }
  report(state, timer, flops, kBytes * arrays * elems);
}

// ---------------------------------------------------------------- the head and the rest

void BM_global_pool(benchmark::State& state, bool backward, int64_t n, int64_t c, int64_t hw) {
  kernels::AvgPoolDesc d{n, c, hw, hw, hw, hw, 1};
  Generator gen(0);
  Tensor x = normal({n, c, hw, hw}, gen), y = normal({n, c, 1, 1}, gen);
  Timer timer;
  for (auto _ : state) {
    if (backward) {
      kernels::cpu::avg_pool2d_backward(x.data<float>(), y.data<float>(), d);
    } else {
      kernels::cpu::avg_pool2d_forward(y.data<float>(), x.data<float>(), d);
    }
    benchmark::ClobberMemory();
  }
  report(state, timer, static_cast<double>(x.numel()),
         kBytes * static_cast<double>(x.numel() + y.numel()));
}

// A matmul given as c [m, n] = op(a) op(b).
void BM_matmul(benchmark::State& state, kernels::MatmulDesc d) {
  Generator gen(0);
  Tensor a = normal({d.m * d.k}, gen), b = normal({d.k * d.n}, gen);
  Tensor c = Tensor::empty({d.m * d.n});
  kernels::cpu::matmul(c.data<float>(), a.data<float>(), b.data<float>(), d);
  Timer timer;
  for (auto _ : state) {
    kernels::cpu::matmul(c.data<float>(), a.data<float>(), b.data<float>(), d);
    benchmark::ClobberMemory();
  }
  report(state, timer, 2.0 * d.m * d.n * d.k,
         kBytes * static_cast<double>(d.m * d.k + d.k * d.n + d.m * d.n));
}

void BM_cross_entropy(benchmark::State& state, bool backward, int64_t n, int64_t classes) {
  kernels::CrossEntropyDesc d{n, classes};
  Generator gen(0);
  Tensor logits = normal({n, classes}, gen), log_probs = Tensor::empty({n, classes});
  Tensor dlogits = Tensor::empty({n, classes}), loss = Tensor::empty({1});
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = i % classes;
  kernels::cpu::cross_entropy_forward(loss.data<float>(), log_probs.data<float>(),
                                      logits.data<float>(), labels.data(), d);
  const float grad_loss = 1.f;
  Timer timer;
  for (auto _ : state) {
    if (backward) {
      kernels::cpu::cross_entropy_backward(dlogits.data<float>(), log_probs.data<float>(),
                                           labels.data(), &grad_loss, d);
    } else {
      kernels::cpu::cross_entropy_forward(loss.data<float>(), log_probs.data<float>(),
                                          logits.data<float>(), labels.data(), d);
    }
    benchmark::ClobberMemory();
  }
  // forward: max, exp, sum, log, subtract (~5 per logit); backward: exp, subtract, scale.
  report(state, timer, (backward ? 3.0 : 5.0) * n * classes, 2 * kBytes * n * classes);
}

// nn::SGD (momentum 0.9, weight decay 5e-4) over every parameter of MobileNetV1 alpha 1 with
// 50 classes: reads w, g, v and writes w, v per parameter.
void BM_sgd_step(benchmark::State& state) {
  Generator gen(0);
  nn::MobileNetV1 model(nn::MobileNetConfig{}, gen);
  double count = 0;
  for (auto& [name, p] : model.named_parameters()) {
    Tensor handle = p;
    handle.set_grad(normal(p.shape(), gen));
    count += static_cast<double>(p.numel());
  }
  nn::SGD sgd(model.named_parameters(), {0.001, 0.9, 0.0005});
  sgd.step();  // allocates the momentum buffers
  Timer timer;
  for (auto _ : state) {
    sgd.step();
    benchmark::ClobberMemory();
  }
  state.counters["params"] = count;
  report(state, timer, 6 * count, 5 * kBytes * count);
}

// ---------------------------------------------------------------- registration

void register_all() {
  const int64_t n = bench::smoke() ? 2 : 128;
  const char* input_env = std::getenv("AR1_BENCH_INPUT");
  const int64_t input = input_env != nullptr ? std::atoll(input_env) : 128;
  benchmark::AddCustomContext("batch", std::to_string(n));
  benchmark::AddCustomContext("input", std::to_string(input));

  const std::vector<kernels::ConvDesc> convs = bench::distinct_mobilenet_convs(n, input);
  const std::pair<Pass, const char*> passes[] = {{Pass::forward, "conv2d_fwd/"},
                                                 {Pass::backward_data, "conv2d_bwd_data/"},
                                                 {Pass::backward_weights, "conv2d_bwd_weights/"}};
  // Channels-last is what the network runs; nchw (oneDNN's blocked layout plus reorders)
  // serves plain inputs. In a build with oneDNN, "/portable" runs the portable kernel set.
  std::vector<std::pair<kernels::CpuKernels, std::string>> sets{
      {kernels::default_cpu_kernels(), ""}};
  if (kernels::built_with_onednn()) sets.push_back({kernels::CpuKernels::portable, "/portable"});
  for (const auto& [pass, prefix] : passes) {
    for (kernels::ConvDesc d : convs) {
      for (const bool channels_last : {true, false}) {
        d.channels_last = channels_last;
        for (const auto& [set, suffix] : sets) {
          const std::string name =
              prefix + bench::conv_name(d) + (channels_last ? "/nhwc" : "/nchw") + suffix;
          benchmark::RegisterBenchmark(name.c_str(), BM_conv2d, pass, d, set)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        }
      }
    }
  }

  const auto acts = bench::activation_shapes(convs);
  const std::pair<BrnPass, const char*> brn_passes[] = {
      {BrnPass::train_forward, "batch_renorm_train_fwd/"},
      {BrnPass::eval_forward, "batch_renorm_eval_fwd/"},
      {BrnPass::backward, "batch_renorm_bwd/"}};
  for (const auto& [pass, prefix] : brn_passes) {
    for (const auto& [c, hw] : acts) {
      for (const bool relu : {true, false}) {
        for (const bool channels_last : {true, false}) {
          const int64_t side = static_cast<int64_t>(std::lround(std::sqrt(double(hw))));
          const std::string name = prefix + std::string(relu ? "relu/" : "plain/") + "c" +
                                   std::to_string(c) + "_hw" + std::to_string(side) +
                                   (channels_last ? "/nhwc" : "/nchw");
          benchmark::RegisterBenchmark(name.c_str(), BM_batch_renorm, pass, n, c, hw, relu,
                                       channels_last)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
        }
      }
    }
  }

  const kernels::ConvDesc& last = convs.back();  // [n, 1024, 4, 4] before the pool (at 128)
  for (const bool backward : {false, true}) {
    const std::string name = std::string(backward ? "global_pool_bwd" : "global_pool_fwd") +
                             "/c1024_hw" + std::to_string(last.oh());
    benchmark::RegisterBenchmark(name.c_str(), BM_global_pool, backward, n, last.c_out, last.oh())
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }

  // Linear 1024 -> 50, no bias: y = x W^T, dx = dy W, dW = dy^T x.
  const int64_t features = 1024, classes = 50;
  const std::pair<const char*, kernels::MatmulDesc> linears[] = {
      {"linear_fwd/1024to50", {n, classes, features, false, true}},
      {"linear_bwd_data/1024to50", {n, features, classes, false, false}},
      {"linear_bwd_weights/1024to50", {classes, features, n, true, false}},
      {"matmul/512x512x512", {512, 512, 512, false, false}}};
  for (const auto& [name, d] : linears) {
    benchmark::RegisterBenchmark(name, BM_matmul, d)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  for (const bool backward : {false, true}) {
    benchmark::RegisterBenchmark(backward ? "cross_entropy_bwd/50" : "cross_entropy_fwd/50",
                                 BM_cross_entropy, backward, n, classes)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("sgd_step/mobilenet_v1", BM_sgd_step)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ar1::bench::configure_threads();
  ar1::bench::roof();  // measured before any benchmark, printed in the context
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
