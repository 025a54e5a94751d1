// The AR1 workloads end to end on MobileNetV1 alpha 1.0 with 50 classes (SPEC.md sections 1
// and 3), at 3 x 128 x 128 (CORe50) and 3 x 32 x 32, each compared with the measured roofline:
//   train_step_exp0  128 images through the whole net, forward + backward + SGD step; every
//                    BatchReNorm in train mode except lat_features' (eval), as AR1 runs
//                    experience 0
//   ar1_inc_step     a later experience's step: 21 new images through the frozen lat_features
//                    without a graph, joined by 107 replayed latents, end_features + output
//                    forward and backward, SGD
//   eval_fwd         128 images, no graph, everything in eval mode
//   eval_fwd_cached  the same from the latents: what evaluation costs once the evaluation
//                    latent cache holds the test images (lat_features frozen; AR1Options::
//                    eval_latent_cache), end_features + output only
//   nic_experience   one NICv2-391-style experience with strategy::AR1: 300 new images, a full
//                    replay memory (rm_sz 1500), 4 epochs, memory update and CWR*
//                    consolidation; /freeze_norm:1 also freezes lat_features' BatchReNorm
//                    parameters (no gradient below the latent layer); /latent_cache:1 then
//                    computes the frozen layers once per image (SPEC 3b), not once per epoch
// Reported: time per step (ms), img/s, and for the steps GFLOP/s and pct_fma (convs and the
// linear only; BatchReNorm, pooling and loss are not counted).
//
// On a machine with a GPU every workload also runs there: "/cuda" with eager launches and
// "/cuda_graph" with the step (or the evaluation forward) replayed as a CUDA graph
// (strategy/graph_steps.h; nic_experience: AR1Options::cuda_graphs). A GPU step ends with a
// synchronisation, so its time is the host's and the device's together; pct_fma is against the
// GPU's fp32 FMA peak measured by bench/gpu_roofline.h. The graph variants fix Batch
// Renormalization's limits at capture (as AR1 does once they stop growing): the same kernels.
//
// Run:  build/bench/ar1_bench_workloads [--benchmark_filter=train_step]
//       AR1_BENCH_SMOKE=1 ... shrinks batches and data (CTest bench.workloads_smoke).
// Where the CPU has AVX-512, "/bf16" runs every workload but eval_fwd_cached with bf16
// convolutions (kernels/precision.h; fp32 tensors, master weights and SGD). In a build with
// oneDNN, "/portable" runs them on the portable CPU kernels (kernels/cpu_kernels.h).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "bench/gpu_roofline.h"
#include "core/cpu_allocator.h"
#include "core/grad_mode.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/scenario.h"
#include "data/transforms.h"
#include "kernels/device.h"
#include "kernels/device_runtime.h"
#include "kernels/cpu_kernels.h"
#include "kernels/precision.h"
#include "nn/functional.h"
#include "nn/models/mobilenet_v1.h"
#include "nn/optim/sgd.h"
#include "strategy/ar1.h"
#include "strategy/metrics/standard_metrics.h"
#include "strategy/graph_steps.h"

namespace {

using namespace ar1;
using bench::report;
using bench::Timer;

constexpr int64_t kClasses = 50;
constexpr int64_t kFeatures = 1024;

std::shared_ptr<nn::MobileNetV1> make_model(int64_t input) {
  Generator gen(0);
  nn::MobileNetConfig config;
  config.num_classes = kClasses;
  config.input_size = input;
  return std::make_shared<nn::MobileNetV1>(config, gen);
}

Tensor random_labels(int64_t n, Generator& gen) {
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t& v : y) v = static_cast<int64_t>(gen.next_u64() % kClasses);
  return Tensor::from_i64(y, {n});
}

// FLOPs of the convs of layers [begin, end) on n images; which passes are counted.
struct Passes {
  bool forward = true, backward_data = false, backward_weights = false;
};
double conv_flops(int64_t n, int64_t input, size_t begin, size_t end, Passes p) {
  const auto convs = bench::mobilenet_convs(n, input);
  double f = 0;
  for (size_t i = begin; i < end; ++i) {
    const double one = bench::conv_flops(convs[i]);
    f += one * (p.forward + p.backward_weights) + (p.backward_data && i > begin ? one : 0.0);
  }
  return f;
}
double linear_flops(int64_t n, int passes) { return passes * 2.0 * n * kFeatures * kClasses; }

// Where a workload runs: the CPU, or GPU 0 with eager launches or CUDA graphs.
struct Where {
  Device device = Device::cpu();
  bool graph = false;
  // "/bf16": convolutions in bf16 (kernels/precision.h), as `ar1 train --precision bf16`.
  kernels::Precision precision = kernels::Precision::f32;
  // "/portable": as `ar1 train --cpu-kernels portable`.
  kernels::CpuKernels cpu_kernels = kernels::default_cpu_kernels();
};

// The workload's convolution precision and CPU kernel set for its lifetime, the defaults
// again after it.
struct ScopedPrecision {
  explicit ScopedPrecision(const Where& where) {
    kernels::set_conv_precision(where.precision);
    kernels::set_cpu_kernels(where.cpu_kernels);
  }
  ~ScopedPrecision() {
    kernels::set_conv_precision(kernels::Precision::f32);
    kernels::set_cpu_kernels(kernels::default_cpu_kernels());
  }
  ScopedPrecision(const ScopedPrecision&) = delete;
  ScopedPrecision& operator=(const ScopedPrecision&) = delete;
};

// bench::report, against the GPU's peak for a GPU workload.
void report_on(benchmark::State& state, const Timer& timer, double flops, const Where& where) {
  if (where.device.is_cpu()) {
    report(state, timer, flops, 0);
    return;
  }
  bench::report_rates(state, timer.seconds(), flops, 0, bench::gpu_roof().fma_gflops,
                      bench::gpu_roof().triad_gbs);
}

// The step, as a graph replay where asked; a GPU step waits for the device at its end.
std::function<void()> placed_step(const Where& where, std::vector<Tensor> inputs,
                                  strategy::GraphSteps::Body body,
                                  std::shared_ptr<strategy::GraphSteps> graphs) {
  return [=] {
    graphs->run("step", inputs, body, where.graph);
    kernels::synchronize(where.device);
  };
}

void set_images_counter(benchmark::State& state, int64_t images) {
  state.counters["img/s"] =
      benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsIterationInvariantRate);
}

// Starts a workload's memory measurement: the allocator's cache is emptied and the peak RSS
// (VmHWM) and the tensors' peak reset, so neither the roofline probe run at start-up nor an
// earlier benchmark counts.
void start_memory_measurement() {
  CpuAllocator::instance().empty_cache();
  CpuAllocator::instance().reset_peak();
  strategy::reset_peak_rss();
}

// Page faults (minor: a fresh page of a new mmap-ed buffer) per iteration, and the peak RSS
// and tensor memory since start_memory_measurement().
class Faults {
 public:
  Faults() : start_(minor_faults()) {}
  void report(benchmark::State& state) const {
    state.counters["faults/iter"] = benchmark::Counter(
        static_cast<double>(minor_faults() - start_), benchmark::Counter::kAvgIterations);
    state.counters["maxrss_MiB"] = strategy::peak_rss_mib();
    // What the tensors themselves held at most (blocks of 64 KiB and more), beside RSS.
    state.counters["peak_live_MiB"] =
        static_cast<double>(CpuAllocator::instance().peak_in_use_bytes()) / (1 << 20);
  }

 private:
  static long minor_faults() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
  }
  long start_;
};

// ---------------------------------------------------------------- the three steps

void BM_train_step_exp0(benchmark::State& state, int64_t input, int64_t batch, Where where) {
  const ScopedPrecision precision(where);
  start_memory_measurement();
  auto model = make_model(input);
  model->to(where.device);
  model->train();
  model->lat_features()->eval();  // AR1: lat_features keeps its running statistics
  nn::SGD sgd(model->named_parameters(), {0.001, 0.9, 0.0005});
  Generator gen(1);
  const Tensor x = normal({batch, 3, input, input}, gen).to(where.device);
  const Tensor y = random_labels(batch, gen).to(where.device);
  auto graphs = std::make_shared<strategy::GraphSteps>(where.device);
  const auto step = placed_step(where, {x, y}, [&](const std::vector<Tensor>& in) {
    sgd.zero_grad();
    const Tensor loss = nn::cross_entropy(model->forward(in[0]), in[1]);
    loss.backward();
    sgd.step();
    return std::vector<Tensor>{loss};
  }, graphs);
  step();  // primitives and momentum buffers built outside the timing
  step();  // (the capture, for a graph)
  Faults faults;
  Timer timer;
  for (auto _ : state) step();
  faults.report(state);
  const size_t layers = bench::mobilenet_table().size();
  // Input needs no gradient: no backward-data for layer 0.
  report_on(state, timer,
            conv_flops(batch, input, 0, layers, {true, true, true}) + linear_flops(batch, 3), where);
  set_images_counter(state, batch);
}

void BM_ar1_inc_step(benchmark::State& state, int64_t input, int64_t n_new, int64_t n_replay,
                     Where where) {
  const ScopedPrecision precision(where);
  start_memory_measurement();
  auto model = make_model(input);
  model->to(where.device);
  model->train();
  model->lat_features()->eval();
  model->lat_features()->set_requires_grad(false);  // frozen below the latent layer
  for (auto& [name, bn] : nn::batch_renorm_layers(*model)) {  // AR1's schedule for e > 0
    bn->set_momentum(5e-5);
    bn->set_r_max(1.25);
    bn->set_d_max(0.5);
    bn->set_r_d_inc(0.0);
  }
  nn::SGD sgd(model->named_parameters(), {5e-5, 0.9, 0.0005});
  Generator gen(1);
  const Tensor x = normal({n_new, 3, input, input}, gen).to(where.device);
  Shape latent{n_replay};
  for (int64_t d : model->latent_shape()) latent.push_back(d);
  const Tensor replay = nn::relu(normal(latent, gen)).to(where.device);  // ReLU outputs
  const Tensor y = random_labels(n_new + n_replay, gen).to(where.device);
  auto graphs = std::make_shared<strategy::GraphSteps>(where.device);
  const auto step = placed_step(where, {x, replay, y}, [&](const std::vector<Tensor>& in) {
    sgd.zero_grad();
    Tensor lat;
    {
      NoGradGuard no_grad;
      lat = model->lat_features()->forward(in[0]);
    }
    const Tensor logits = model->head(Tensor::concat({lat, in[1]}));
    const Tensor loss = nn::cross_entropy(logits, in[2]);
    loss.backward();
    sgd.step();
    return std::vector<Tensor>{loss};
  }, graphs);
  step();
  step();
  Faults faults;
  Timer timer;
  for (auto _ : state) step();
  faults.report(state);
  const int64_t n = n_new + n_replay;
  const size_t split = static_cast<size_t>(model->latent_layer_num()) + 1;
  const size_t layers = bench::mobilenet_table().size();
  report_on(state, timer,
            conv_flops(n_new, input, 0, split, {}) +
                conv_flops(n, input, split, layers, {true, true, true}) + linear_flops(n, 3),
            where);
  set_images_counter(state, n);
}

void BM_eval_fwd(benchmark::State& state, int64_t input, int64_t batch, Where where) {
  const ScopedPrecision precision(where);
  start_memory_measurement();
  auto model = make_model(input);
  model->to(where.device);
  model->eval();
  Generator gen(1);
  const Tensor x = normal({batch, 3, input, input}, gen).to(where.device);
  NoGradGuard no_grad;
  auto graphs = std::make_shared<strategy::GraphSteps>(where.device);
  const auto step = placed_step(where, {x}, [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{model->forward(in[0])};
  }, graphs);
  step();
  step();
  Faults faults;
  Timer timer;
  for (auto _ : state) step();
  faults.report(state);
  report_on(state, timer,
            conv_flops(batch, input, 0, bench::mobilenet_table().size(), {}) +
                linear_flops(batch, 1),
            where);
  set_images_counter(state, batch);
}

void BM_eval_fwd_cached(benchmark::State& state, int64_t input, int64_t batch) {
  start_memory_measurement();
  auto model = make_model(input);
  model->eval();
  Generator gen(1);
  Shape latent{batch};
  for (int64_t d : model->latent_shape()) latent.push_back(d);
  // The cache keeps lat_features' output as it came: channels-last on the CPU.
  const Tensor lat = nn::relu(normal(latent, gen)).to_channels_last();
  NoGradGuard no_grad;
  benchmark::DoNotOptimize(model->head(lat));
  Faults faults;
  Timer timer;
  for (auto _ : state) {
    const Tensor logits = model->head(lat);
    benchmark::DoNotOptimize(logits.raw_data());
  }
  faults.report(state);
  const size_t split = static_cast<size_t>(model->latent_layer_num()) + 1;
  report(state, timer,
         conv_flops(batch, input, split, bench::mobilenet_table().size(), {}) +
             linear_flops(batch, 1),
         0);
  set_images_counter(state, batch);
}

// ---------------------------------------------------------------- a whole AR1 experience

struct NicConfig {
  int64_t first_images = 4;  // experience 0, one epoch: only to reach e > 0
  int64_t new_images = 300;  // the timed experience (one class, as a NICv2-391 batch)
  int64_t rm_sz = 1500;
  int64_t epochs = 4;
  int64_t mb = 128;
  bool freeze_norm = false;
  bool latent_cache = true;
};

struct CountIterations : strategy::Plugin {
  int64_t iterations = 0;
  void after_training_iteration(strategy::SupervisedTemplate&) override { ++iterations; }
};

void BM_nic_experience(benchmark::State& state, int64_t input, NicConfig c, Where where) {
  const ScopedPrecision precision(where);
  Generator gen(2);
  const int64_t total = c.first_images + c.new_images;
  std::vector<uint8_t> pixels(static_cast<size_t>(total * input * input * 3));
  for (uint8_t& p : pixels) p = static_cast<uint8_t>(gen.next_u64());
  std::vector<int64_t> targets(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {
    targets[static_cast<size_t>(i)] = i < c.first_images ? i % 4 : 4;
  }
  auto dataset = std::make_shared<data::InMemoryDataset>(std::move(pixels), input, input, 3,
                                                         targets, kClasses, "random");
  std::vector<int64_t> first(static_cast<size_t>(c.first_images));
  std::iota(first.begin(), first.end(), 0);
  std::vector<int64_t> next(static_cast<size_t>(c.new_images));
  std::iota(next.begin(), next.end(), c.first_images);
  const data::Experience exp0 = data::make_experience(0, dataset, first);
  const data::Experience exp1 = data::make_experience(1, dataset, next);

  auto counter = std::make_shared<CountIterations>();
  int64_t iterations = 0;
  for (auto _ : state) {
    state.PauseTiming();
    strategy::AR1Options o;
    o.rm_sz = c.rm_sz;
    o.train_epochs = c.epochs;
    o.first_epochs = 1;
    o.train_mb_size = c.mb;
    o.eval_mb_size = c.mb;
    o.freeze_norm = c.freeze_norm;
    o.latent_cache = c.latent_cache;
    o.device = where.device;
    o.cuda_graphs = where.graph;
    auto model = make_model(input);
    auto ar1 = std::make_unique<strategy::AR1>(model, o,
                                               std::vector<std::shared_ptr<strategy::Plugin>>{counter});
    ar1->train(exp0);
    // Fill the memory to rm_sz with random latents of random classes, as after a long run.
    strategy::LatentReplayMemory& memory = ar1->replay_memory();
    const int64_t missing = memory.capacity() - memory.size();
    if (missing > 0) {
      Shape shape{missing};
      for (int64_t d : model->latent_shape()) shape.push_back(d);
      Tensor acts = normal(shape, gen);
      memory.store(nn::relu(acts), random_labels(missing, gen), gen);
    }
    counter->iterations = 0;
    state.ResumeTiming();

    ar1->train(exp1);
    kernels::synchronize(where.device);

    state.PauseTiming();
    iterations = counter->iterations;
    ar1.reset();
    state.ResumeTiming();
  }
  state.counters["iterations"] = static_cast<double>(iterations);
  state.counters["new_img/s"] = benchmark::Counter(static_cast<double>(c.new_images),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

// ---------------------------------------------------------------- registration

void register_all() {
  const bool smoke = bench::smoke();
  const int64_t batch = smoke ? 4 : 128;
  // AR1's split at rm_sz 1500, 300 new images, mb 128: cur = 300 // (1800 // 128) = 21.
  const int64_t n_new = smoke ? 1 : 21;
  const int64_t n_replay = batch - n_new;
  NicConfig nic;
  if (smoke) nic = {2, 6, 10, 1, 4, false, true};
  std::vector<std::pair<std::string, Where>> places{{"", Where{}}};
  if (kernels::bf16_convolutions_supported()) {
    places.push_back({"/bf16", Where{Device::cpu(), false, kernels::Precision::bf16}});
  }
  if (kernels::built_with_onednn()) {
    places.push_back({"/portable", Where{Device::cpu(), false, kernels::Precision::f32,
                                         kernels::CpuKernels::portable}});
  }
  if (kernels::cuda_device_count() > 0) {
    places.push_back({"/cuda", Where{Device::cuda(0), false}});
    places.push_back({"/cuda_graph", Where{Device::cuda(0), true}});
  }
  for (const auto& [place, where] : places) {
    for (const int64_t input : {int64_t{128}, int64_t{32}}) {
      std::string s = "/";  // (not "/" + ...: GCC 12 warns falsely, -Wrestrict)
      s += std::to_string(input);
      benchmark::RegisterBenchmark(("train_step_exp0" + s + place).c_str(), BM_train_step_exp0,
                                   input, batch, where)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark(("ar1_inc_step" + s + place).c_str(), BM_ar1_inc_step, input,
                                   n_new, n_replay, where)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark(("eval_fwd" + s + place).c_str(), BM_eval_fwd, input, batch,
                                   where)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      if (place.empty()) {  // no convolution in it: one variant
        benchmark::RegisterBenchmark(("eval_fwd_cached" + s).c_str(), BM_eval_fwd_cached, input,
                                     batch)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
      // The latent cache applies only with freeze_norm (else lat_features' BatchReNorm trains).
      for (const auto& [freeze_norm, latent_cache] :
           {std::pair{false, false}, std::pair{true, false}, std::pair{true, true}}) {
        NicConfig c = nic;
        c.freeze_norm = freeze_norm;
        c.latent_cache = latent_cache;
        benchmark::RegisterBenchmark(("nic_experience" + s + "/freeze_norm:" +
                                      std::to_string(freeze_norm) + "/latent_cache:" +
                                      std::to_string(latent_cache) + place)
                                         .c_str(),
                                     BM_nic_experience, input, c, where)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Iterations(1);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ar1::bench::configure_threads();
  ar1::bench::roof();
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
