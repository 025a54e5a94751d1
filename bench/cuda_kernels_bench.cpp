// The CUDA backend's kernels at MobileNetV1's shapes (alpha 1.0, 3 x 128 x 128, batch 128; the
// GPU layout, NCHW): every distinct conv forward / backward-data / backward-weights (cuDNN, our
// depthwise kernels), BatchReNorm train / eval / backward with the fused ReLU, global pooling,
// the 1024 -> 50 linear (cuBLAS), cross-entropy and the SGD update. Times are GPU times between
// events on the compute stream; each reports GFLOP/s, GB/s and, as pct_fma / pct_bw, the share
// of the GPU's fp32 FMA peak and triad bandwidth measured by our probe (bench/gpu_roofline.h).
// fp32 with TF32 off unless AR1_CUDA_TF32=1 (then pct_fma exceeds what fp32 FMA allows).
//
// Run:  build/bench/ar1_bench_cuda_kernels [--benchmark_filter=conv2d_fwd]
//       AR1_BENCH_SMOKE=1 ... batch 2; AR1_BENCH_INPUT=32 ... 32 x 32 shapes.
// Without a GPU it prints why and exits 77 (CTest: Skipped).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "bench/gpu_roofline.h"
#include "core/rng.h"
#include "kernels/batch_renorm.h"
#include "kernels/conv2d.h"
#include "kernels/cross_entropy.h"
#include "kernels/device.h"
#include "kernels/matmul.h"
#include "kernels/pooling.h"
#include "kernels/sgd.h"

namespace {

using namespace ar1;

const Device kGpu = Device::cuda(0);
constexpr double kBytes = sizeof(float);

Tensor on_gpu(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return normal(shape, gen).to(kGpu);
}
float* f32(const Tensor& t) { return static_cast<float*>(t.raw_data()); }

// Times `work` per iteration on the GPU (manual time) and reports its rates.
void time_gpu(benchmark::State& state, const std::function<void()>& work, double flops,
              double bytes) {
  work();  // plans and workspaces outside the timing
  bench::GpuTimer timer(kGpu);
  double total_ms = 0;
  for (auto _ : state) {
    timer.start();
    work();
    const double ms = timer.stop_ms();
    total_ms += ms;
    state.SetIterationTime(ms * 1e-3);
  }
  bench::report_rates(state, total_ms * 1e-3, flops, bytes, bench::gpu_roof().fma_gflops,
                      bench::gpu_roof().triad_gbs);
}

enum class Pass { forward, backward_data, backward_weights };

void BM_conv2d(benchmark::State& state, Pass pass, kernels::ConvDesc d) {
  const Tensor x = on_gpu({d.n, d.c_in, d.h, d.w}, 1);
  const Tensor w = on_gpu({d.c_out, d.c_in / d.groups, d.kh, d.kw}, 2);
  const Tensor y = on_gpu({d.n, d.c_out, d.oh(), d.ow()}, 3);
  auto work = [&] {
    switch (pass) {
      case Pass::forward: kernels::conv2d_forward(kGpu, f32(y), f32(x), f32(w), d); break;
      case Pass::backward_data:
        kernels::conv2d_backward_data(kGpu, f32(x), f32(y), f32(w), d);
        break;
      case Pass::backward_weights:
        kernels::conv2d_backward_weights(kGpu, f32(w), f32(y), f32(x), d);
        break;
    }
  };
  time_gpu(state, work, bench::conv_flops(d),
           kBytes * static_cast<double>(x.numel() + w.numel() + y.numel()));
}

enum class BrnPass { train_forward, eval_forward, backward };

void BM_batch_renorm(benchmark::State& state, BrnPass pass, int64_t n, int64_t c, int64_t hw) {
  kernels::BatchReNormDesc d;
  d.n = n, d.c = c, d.hw = hw, d.relu = true, d.channels_last = false;
  d.r_max = 1.25f, d.d_max = 0.5f, d.momentum = 0.01f;
  d.training = pass != BrnPass::eval_forward;
  const Tensor x = on_gpu({n, c, hw}, 1), dy = on_gpu({n, c, hw}, 2);
  const Tensor y = Tensor::empty({n, c, hw}, DType::f32, kGpu);
  const Tensor dx = Tensor::empty({n, c, hw}, DType::f32, kGpu);
  const Tensor gamma = Tensor::full({c}, 1.f, kGpu), beta = Tensor::zeros({c}, DType::f32, kGpu);
  const Tensor rmean = Tensor::zeros({c}, DType::f32, kGpu), rstd = Tensor::full({c}, 1.f, kGpu);
  const Tensor dgamma = Tensor::empty({c}, DType::f32, kGpu);
  const Tensor dbeta = Tensor::empty({c}, DType::f32, kGpu);
  std::vector<Tensor> s;
  for (int i = 0; i < 5; ++i) s.push_back(Tensor::empty({c}, DType::f32, kGpu));
  const kernels::BatchReNormSaved saved{f32(s[0]), f32(s[1]), f32(s[2]), f32(s[3]), f32(s[4])};
  auto train = [&] {
    kernels::batch_renorm_train_forward(kGpu, f32(y), saved, f32(rmean), f32(rstd), f32(x),
                                        f32(gamma), f32(beta), d);
  };
  train();
  const double elems = static_cast<double>(n * c * hw);
  switch (pass) {
    case BrnPass::train_forward: time_gpu(state, train, 5 * elems, kBytes * 2 * elems); break;
    case BrnPass::eval_forward:
      time_gpu(state, [&] {
        kernels::batch_renorm_eval_forward(kGpu, f32(y), f32(x), f32(gamma), f32(beta),
                                           f32(rmean), f32(rstd), d);
      }, 2 * elems, kBytes * 2 * elems);
      break;
    case BrnPass::backward:
      time_gpu(state, [&] {
        kernels::batch_renorm_backward(kGpu, f32(dx), f32(dgamma), f32(dbeta), f32(dy), f32(x),
                                       f32(y), f32(gamma), saved.mean, saved.inv_std, saved.r,
                                       saved.d, d);
      }, 9 * elems, kBytes * 4 * elems);
      break;
  }
}

void BM_global_pool(benchmark::State& state, bool backward, int64_t n, int64_t c, int64_t hw) {
  const kernels::AvgPoolDesc d{n, c, hw, hw, hw, hw, 1};
  const Tensor x = on_gpu({n, c, hw, hw}, 1), y = on_gpu({n, c, 1, 1}, 2);
  time_gpu(state, [&] {
    if (backward) {
      kernels::avg_pool2d_backward(kGpu, f32(x), f32(y), d);
    } else {
      kernels::avg_pool2d_forward(kGpu, f32(y), f32(x), d);
    }
  }, static_cast<double>(x.numel()), kBytes * static_cast<double>(x.numel() + y.numel()));
}

void BM_matmul(benchmark::State& state, kernels::MatmulDesc d) {
  const Tensor a = on_gpu({d.m * d.k}, 1), b = on_gpu({d.k * d.n}, 2);
  const Tensor c = Tensor::empty({d.m * d.n}, DType::f32, kGpu);
  time_gpu(state, [&] { kernels::matmul(kGpu, f32(c), f32(a), f32(b), d); },
           2.0 * d.m * d.n * d.k, kBytes * static_cast<double>(d.m * d.k + d.k * d.n + d.m * d.n));
}

void BM_cross_entropy(benchmark::State& state, bool backward, int64_t n, int64_t classes) {
  const kernels::CrossEntropyDesc d{n, classes};
  const Tensor logits = on_gpu({n, classes}, 1);
  const Tensor log_probs = Tensor::empty({n, classes}, DType::f32, kGpu);
  const Tensor dlogits = Tensor::empty({n, classes}, DType::f32, kGpu);
  const Tensor loss = Tensor::full({1}, 1.f, kGpu);
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) y[static_cast<size_t>(i)] = i % classes;
  const Tensor labels = Tensor::from_i64(y, {n}).to(kGpu);
  const auto* l = static_cast<const int64_t*>(labels.raw_data());
  kernels::cross_entropy_forward(kGpu, f32(loss), f32(log_probs), f32(logits), l, d);
  // The forward includes its label check (one 8-byte read by the host).
  time_gpu(state, [&] {
    if (backward) {
      kernels::cross_entropy_backward(kGpu, f32(dlogits), f32(log_probs), l, f32(loss), d);
    } else {
      kernels::cross_entropy_forward(kGpu, f32(loss), f32(log_probs), f32(logits), l, d);
    }
  }, (backward ? 3.0 : 5.0) * n * classes, 2 * kBytes * n * classes);
}

// One SGD update (momentum, weight decay) over 4.2 M values: MobileNetV1 alpha 1's parameters.
void BM_sgd(benchmark::State& state) {
  const int64_t count = 4231976;
  const Tensor w = on_gpu({count}, 1), g = on_gpu({count}, 2);
  const Tensor v = Tensor::zeros({count}, DType::f32, kGpu);
  kernels::SgdDesc d;
  d.n = count, d.lr = 1e-3f, d.momentum = 0.9f, d.weight_decay = 5e-4f, d.first = false;
  time_gpu(state, [&] { kernels::sgd_update(kGpu, f32(w), f32(v), f32(g), d); }, 6.0 * count,
           5 * kBytes * count);
}

template <class... Args>
void add(const std::string& name, Args&&... args) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<Args>(args)...)
      ->Unit(benchmark::kMicrosecond)
      ->UseManualTime();
}

void register_all() {
  const int64_t n = bench::smoke() ? 2 : 128;
  const char* input_env = std::getenv("AR1_BENCH_INPUT");
  const int64_t input = input_env != nullptr ? std::atoll(input_env) : 128;
  benchmark::AddCustomContext("batch", std::to_string(n));
  benchmark::AddCustomContext("input", std::to_string(input));
  const std::vector<kernels::ConvDesc> convs = bench::distinct_mobilenet_convs(n, input);
  const std::pair<Pass, const char*> passes[] = {{Pass::forward, "cuda/conv2d_fwd/"},
                                                 {Pass::backward_data, "cuda/conv2d_bwd_data/"},
                                                 {Pass::backward_weights,
                                                  "cuda/conv2d_bwd_weights/"}};
  for (const auto& [pass, prefix] : passes) {
    for (const kernels::ConvDesc& d : convs) add(prefix + bench::conv_name(d), BM_conv2d, pass, d);
  }
  const auto acts = bench::activation_shapes(convs);
  const std::pair<BrnPass, const char*> brn[] = {
      {BrnPass::train_forward, "cuda/batch_renorm_train_fwd/relu/"},
      {BrnPass::eval_forward, "cuda/batch_renorm_eval_fwd/relu/"},
      {BrnPass::backward, "cuda/batch_renorm_bwd/relu/"}};
  for (const auto& [pass, prefix] : brn) {
    for (const auto& [c, hw] : acts) {
      const auto side = static_cast<int64_t>(std::lround(std::sqrt(double(hw))));
      add(prefix + std::string("c") + std::to_string(c) + "_hw" + std::to_string(side),
          BM_batch_renorm, pass, n, c, hw);
    }
  }
  const kernels::ConvDesc& last = convs.back();
  for (const bool backward : {false, true}) {
    add(std::string(backward ? "cuda/global_pool_bwd" : "cuda/global_pool_fwd") + "/c1024_hw" +
            std::to_string(last.oh()),
        BM_global_pool, backward, n, last.c_out, last.oh());
  }
  const int64_t features = 1024, classes = 50;
  const std::pair<const char*, kernels::MatmulDesc> linears[] = {
      {"cuda/linear_fwd/1024to50", {n, classes, features, false, true}},
      {"cuda/linear_bwd_data/1024to50", {n, features, classes, false, false}},
      {"cuda/linear_bwd_weights/1024to50", {classes, features, n, true, false}},
      {"cuda/matmul/4096x4096x4096", {4096, 4096, 4096, false, false}}};
  for (const auto& [name, d] : linears) add(name, BM_matmul, d);
  for (const bool backward : {false, true}) {
    add(backward ? "cuda/cross_entropy_bwd/50" : "cuda/cross_entropy_fwd/50", BM_cross_entropy,
        backward, n, classes);
  }
  add("cuda/sgd_update/mobilenet_v1", BM_sgd);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (ar1::kernels::cuda_device_count() == 0) {
    std::printf("ar1_bench_cuda_kernels: %s; nothing measured\n",
                ar1::kernels::built_with_cuda() ? "no CUDA GPU on this machine"
                                                : "this build has no CUDA backend");
    return 77;
  }
  ar1::bench::gpu_roof();
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
