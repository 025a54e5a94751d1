// The device-side machinery of a training step as it behaves on the CPU: the replay memory's
// placement rule, graph steps (always eager off a GPU), and the batch prefetcher (the loader's
// batches, in order). Their GPU behaviour is tested in tests/cuda/.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "data/loader.h"
#include "kernels/device.h"
#include "kernels/device_runtime.h"
#include "strategy/batch_prefetcher.h"
#include "strategy/graph_steps.h"
#include "strategy/latent_replay_memory.h"
#include "tests/strategy/one_hot_fixture.h"

using namespace ar1;
using namespace ar1::strategy;

TEST_CASE("replay memory placement: the automatic rule and its names") {
  // 1 GiB free, a quarter of it: 256 MiB fit, one byte more does not.
  const size_t free_bytes = size_t{1} << 30;
  CHECK(replay_fits_on_device(size_t{256} << 20, free_bytes, 0.25));
  CHECK_FALSE(replay_fits_on_device((size_t{256} << 20) + 1, free_bytes, 0.25));
  CHECK(replay_fits_on_device(free_bytes, free_bytes, 1.0));
  CHECK_FALSE(replay_fits_on_device(1, 0, 0.25));
  for (const char* name : {"auto", "device", "host"}) {
    CHECK(replay_placement_name(parse_replay_placement(name)) == name);
  }
  CHECK_THROWS_WITH_AS(parse_replay_placement("gpu"),
                       doctest::Contains("use auto, device or host"), Error);

  LatentReplayMemory m(4, ReplayDType::f32);
  m.serve_on(Device::cpu(), ReplayPlacement::host, 0.5);  // the CPU ignores the placement
  Tensor acts = Tensor::full({2, 3}, 1.5f);
  m.store_at(acts, Tensor::from_i64({7, 8}, {2}), {0, 1});
  CHECK(m.placement() == "cpu");
  auto [x, y] = m.rows(0, 2);
  CHECK(x.device() == Device::cpu());
  CHECK(x.to_vector<float>() == std::vector<float>(6, 1.5f));
  CHECK(y.to_vector<int64_t>() == std::vector<int64_t>{7, 8});
  CHECK_THROWS_WITH_AS(m.serve_on(Device::cpu(), ReplayPlacement::automatic, 0.25),
                       doctest::Contains("before the first rows"), Error);
  LatentReplayMemory other(4, ReplayDType::f32);
  CHECK_THROWS_WITH_AS(other.serve_on(Device::cpu(), ReplayPlacement::automatic, 0.0),
                       doctest::Contains("(0, 1]"), Error);
}

TEST_CASE("graph steps run every call eagerly off a gpu") {
  GraphSteps steps(Device::cpu());
  int calls = 0;
  const auto body = [&](const std::vector<Tensor>& in) {
    ++calls;
    return std::vector<Tensor>{Tensor::full(in[0].shape(), in[0].item() * 2.f)};
  };
  for (int i = 0; i < 4; ++i) {
    const std::vector<Tensor> out = steps.run("double", {Tensor::full({1}, float(i))}, body, true);
    CHECK(out[0].item() == doctest::Approx(2.0 * i));
  }
  CHECK(calls == 4);
  CHECK(steps.captures() == 0);
  CHECK(steps.replays() == 0);
}

TEST_CASE("batch prefetcher hands out the loader's batches in order on the cpu") {
  std::vector<testing::Sample> samples;
  for (int64_t i = 0; i < 10; ++i) samples.push_back({i % 3, i % 3});
  data::LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = true;
  o.seed = 5;
  o.num_workers = 0;
  data::DataLoader reference(testing::one_hot_images(samples), data::standard_pipeline(0), o);
  data::DataLoader loader(testing::one_hot_images(samples), data::standard_pipeline(0), o);
  reference.start_epoch(0);
  loader.start_epoch(0);
  BatchPrefetcher prefetched(loader, Device::cpu());
  data::Batch want, got;
  Tensor images, labels;
  int batches = 0;
  while (reference.next(want)) {
    REQUIRE(prefetched.next(got, images, labels));
    CHECK(got.indices == want.indices);
    CHECK(images.to_vector<float>() == want.images.to_vector<float>());
    CHECK(labels.to_vector<int64_t>() == want.labels.to_vector<int64_t>());
    ++batches;
  }
  CHECK(batches == 3);
  CHECK_FALSE(prefetched.next(got, images, labels));
}

TEST_CASE("device services refuse the cpu and a missing gpu by name") {
  const kernels::DeviceMemory cpu = kernels::device_memory(Device::cpu());
  CHECK(cpu.free_bytes == 0);
  CHECK(cpu.total_bytes == 0);
  CHECK_THROWS_WITH_AS(kernels::pinned_host_tensor({4}, DType::f32, Device::cpu()),
                       doctest::Contains("registered with a GPU"), Error);
  CHECK_THROWS_WITH_AS(kernels::capture_graph(Device::cpu(), [] {}),
                       doctest::Contains("captured on a GPU"), Error);
  kernels::join_uploads(Device::cpu());           // nothing to wait for
  kernels::check_deferred_errors(Device::cpu());  // nothing deferred
  kernels::set_deterministic(true);
  CHECK(kernels::deterministic());
  kernels::set_deterministic(false);
  if (kernels::cuda_device_count() == 0) {
    // A GPU asked for and absent: the message names the fix, whichever build this is.
    try {
      kernels::pinned_host_tensor({4}, DType::f32, Device::cuda(0));
      FAIL("pinned memory without a GPU did not throw");
    } catch (const Error& e) {
      const std::string what = e.what();
      CHECK_MESSAGE(what.find("--device cpu") != std::string::npos, what);
    }
  }
}
