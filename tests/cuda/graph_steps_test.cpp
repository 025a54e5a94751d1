// CUDA graphs and copy-stream uploads at the level of kernels/device_runtime.h and
// strategy/graph_steps.h: a captured step replays with new inputs and gives the eager values,
// a step that needs the host falls back to eager, and prefetched batches arrive intact.
#include <doctest/doctest.h>

#include <vector>

#include "data/loader.h"
#include "kernels/device_runtime.h"
#include "nn/functional.h"
#include "strategy/batch_prefetcher.h"
#include "strategy/graph_steps.h"
#include "tests/cuda/op_harness.h"
#include "tests/strategy/one_hot_fixture.h"

using namespace ar1;
using namespace ar1::testing;

namespace {

// y = x * x + x, and its sum: a few kernels, one of them a reduction.
std::vector<Tensor> square_plus(const std::vector<Tensor>& in) {
  const Tensor y = nn::add(nn::mul(in[0], in[0]), in[0]);
  return {y, nn::sum(y)};
}

}  // namespace

TEST_CASE("a graph step is captured once and replays new inputs to the eager values") {
  require_gpu();
  strategy::GraphSteps steps(kGpu);
  for (int call = 0; call < 5; ++call) {
    CAPTURE(call);
    const std::vector<float> x = random_values(1000, 40 + call);
    const Tensor input = Tensor::from_vector(x, {10, 100}).to(kGpu);
    const std::vector<Tensor> out = steps.run("square_plus", {input}, square_plus, true);
    const std::vector<Tensor> want = square_plus({Tensor::from_vector(x, {10, 100})});
    CHECK(out[0].to_vector<float>() == want[0].to_vector<float>());
    CHECK(out[1].item() == doctest::Approx(want[1].item()).epsilon(1e-5));
  }
  CHECK(steps.captures() == 1);
  CHECK(steps.replays() == 4);  // calls 2 to 5: the capture's own call replays too
  // Another shape is another graph.
  steps.run("square_plus", {Tensor::full({3}, 2.f, kGpu)}, square_plus, true);
  CHECK(steps.graphs() == 2);
}

TEST_CASE("a graph step that reads the host runs eagerly instead") {
  require_gpu();
  strategy::GraphSteps steps(kGpu);
  const auto reads_host = [](const std::vector<Tensor>& in) {
    const float first = in[0].to(Device::cpu()).to_vector<float>()[0];  // a device->host copy
    return std::vector<Tensor>{nn::mul(in[0], Tensor::full({}, first, in[0].device()))};
  };
  for (int call = 0; call < 3; ++call) {
    const Tensor x = Tensor::full({4}, float(call + 1), kGpu);
    const std::vector<Tensor> out = steps.run("reads_host", {x}, reads_host, true);
    CHECK(out[0].to_vector<float>() == std::vector<float>(4, float((call + 1) * (call + 1))));
  }
  CHECK(steps.captures() == 0);
  CHECK(steps.replays() == 0);
  // The device is usable afterwards: the capture ended cleanly.
  CHECK(nn::sum(Tensor::full({8}, 1.f, kGpu)).item() == 8.f);
}

TEST_CASE("batches prefetched to the gpu on the copy stream arrive intact and in order") {
  require_gpu();
  std::vector<Sample> samples;
  for (int64_t i = 0; i < 50; ++i) samples.push_back({i % 3, i % 3});
  data::LoaderOptions o;
  o.batch_size = 8;
  o.seed = 2;
  o.num_workers = 0;
  data::DataLoader reference(one_hot_images(samples), data::standard_pipeline(0), o);
  data::DataLoader loader(one_hot_images(samples), data::standard_pipeline(0), o);
  reference.start_epoch(0);
  loader.start_epoch(0);
  strategy::BatchPrefetcher batches(loader, kGpu);
  data::Batch want, got;
  Tensor images, labels;
  while (reference.next(want)) {
    REQUIRE(batches.next(got, images, labels));
    CHECK(images.device() == kGpu);
    // Work on the batch queued after next(): it sees the uploaded values.
    CHECK(nn::mul(images, Tensor::full({}, 1.f, kGpu)).to_vector<float>() ==
          want.images.to_vector<float>());
    CHECK(labels.to_vector<int64_t>() == want.labels.to_vector<int64_t>());
  }
  CHECK_FALSE(batches.next(got, images, labels));
}

TEST_CASE("page-locked host tensors copy to the gpu and back") {
  require_gpu();
  Tensor pinned = kernels::pinned_host_tensor({256}, DType::f32, kGpu);
  for (int64_t i = 0; i < 256; ++i) pinned.data<float>()[i] = float(i) * 0.5f;
  const Tensor on_gpu = pinned.to(kGpu);
  kernels::synchronize(kGpu);  // before the host writes the page-locked memory again
  pinned.data<float>()[0] = -1.f;
  const std::vector<float> back = on_gpu.to_vector<float>();
  CHECK(back[0] == 0.f);
  CHECK(back[255] == 127.5f);
  const kernels::DeviceMemory m = kernels::device_memory(kGpu);
  CHECK(m.free_bytes > 0);
  CHECK(m.free_bytes <= m.total_bytes);
}
