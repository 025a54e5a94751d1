// Tensors on the GPU: copies to and from the host, the data movements core does itself
// (contiguous, channels-last, concat, slice backward, dtype conversions, gradient sums), the
// caching allocator, and the errors a user meets.
#include <doctest/doctest.h>

#include <string>

#include "core/device_backend.h"
#include "core/memory_format.h"
#include "nn/functional.h"
#include "tests/cuda/op_harness.h"

using namespace ar1;
using namespace ar1::testing;

TEST_CASE("tensors round-trip between host and gpu and keep their values") {
  require_gpu();
  Generator gen(1);
  const Tensor host = normal({3, 1000, 7}, gen);  // several staging pieces are not needed: 84 KB
  const Tensor dev = host.to(kGpu);
  CHECK(dev.device() == kGpu);
  CHECK(dev.to(Device::cpu()).to_vector<float>() == host.to_vector<float>());
  CHECK(Tensor::zeros({5}, DType::f32, kGpu).to_vector<float>() == std::vector<float>(5, 0.f));
  CHECK(Tensor::full({4}, 3.5f, kGpu).to_vector<float>() == std::vector<float>(4, 3.5f));
  const Tensor labels = Tensor::from_i64({3, 1, 4, 1, 5}, {5}).to(kGpu);
  CHECK(labels.to_vector<int64_t>() == std::vector<int64_t>{3, 1, 4, 1, 5});
  // 80 MiB: copied in three 32 MiB staging pieces.
  const Tensor big = normal({20, 1 << 20}, gen);
  CHECK(big.to(kGpu).to_vector<float>() == big.to_vector<float>());
}

TEST_CASE("contiguous, channels-last, concat and slices on the gpu give the cpu's values") {
  require_gpu();
  Generator gen(2);
  const Tensor x = normal({2, 3, 4, 5}, gen);
  const Tensor xg = x.to(kGpu);
  const Tensor cl = xg.to_channels_last();
  CHECK(is_channels_last(cl));
  check_tensors("to_channels_last", cl.contiguous(), x.to_channels_last().contiguous(), kExact);
  check_tensors("slice of channels-last", cl.slice(1, 2).contiguous(), x.slice(1, 2), kExact);
  check_tensors("concat", Tensor::concat({xg, xg.slice(0, 1)}),
                Tensor::concat({x, x.slice(0, 1)}), kExact);
  check_tensors("concat channels-last", Tensor::concat({cl, cl}).contiguous(),
                Tensor::concat({x, x}), kExact);
  // The gradient of a slice lands in the right rows of a zero tensor.
  Tensor leaf = xg.clone().set_requires_grad(true);
  nn::sum(leaf.slice(1, 2)).backward();
  Tensor want = Tensor::zeros(x.shape());
  std::vector<float> w = want.to_vector<float>();
  for (size_t i = 60; i < 120; ++i) w[i] = 1.f;
  check_tensors("slice backward", leaf.grad(), Tensor::from_vector(w, x.shape()), kExact);
}

TEST_CASE("dtype conversions and gradient sums on the gpu match the cpu") {
  require_gpu();
  const Tensor x = Tensor::from_vector({-1.5f, 0.f, 0.5f, 2.5f, 3.5f, 254.6f, 300.f, 1e-8f,
                                        65504.f, 1e6f, -3.25f, 7.f},
                                       {12});
  for (const DType dt : {DType::u8, DType::f16, DType::bf16, DType::i64}) {
    CAPTURE(dtype_name(dt));
    const Tensor g = x.to(kGpu).to(dt);
    CHECK(g.dtype() == dt);
    check_tensors("to dtype", g, x.to(dt), kExact);
    check_tensors("and back", g.to(DType::f32), x.to(dt).to(DType::f32), kExact);
  }
  // A tensor used twice gets the sum of both gradients.
  Tensor leaf = x.to(kGpu).set_requires_grad(true);
  nn::sum(nn::add(nn::mul(leaf, leaf), leaf)).backward();
  Tensor cpu_leaf = x.clone().set_requires_grad(true);
  nn::sum(nn::add(nn::mul(cpu_leaf, cpu_leaf), cpu_leaf)).backward();
  check_tensors("accumulated gradient", leaf.grad(), cpu_leaf.grad(), kElementwise);
}

TEST_CASE("the gpu caching allocator reuses blocks and says how much memory was asked for") {
  require_gpu();
  Allocator& a = allocator_for(kGpu);
  a.empty_cache();
  const void* first = nullptr;
  {
    const Tensor t = Tensor::empty({1 << 20}, DType::f32, kGpu);  // 4 MiB
    first = t.raw_data();
  }
  CHECK(a.cached_bytes() == size_t{4} << 20);
  const Tensor again = Tensor::empty({1 << 20}, DType::f32, kGpu);
  CHECK(again.raw_data() == first);
  CHECK(a.cached_bytes() == 0);
  // A petabyte is refused with the size asked for and what is free.
  const int64_t huge = int64_t{1} << 48;
  try {
    const Tensor t = Tensor::empty({huge}, DType::f32, kGpu);
    FAIL("allocating 1 PiB on the gpu did not fail");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("out of memory") != std::string::npos);
    CHECK(msg.find("asked for") != std::string::npos);
    CHECK(msg.find("free") != std::string::npos);
  }
  // The device still works afterwards.
  CHECK(Tensor::full({3}, 1.f, kGpu).to_vector<float>() == std::vector<float>(3, 1.f));
}

TEST_CASE("a gpu index that does not exist is refused naming the devices there are") {
  require_gpu();
  const int count = kernels::cuda_device_count();
  const Device missing = Device::cuda(count);
  CHECK_THROWS_WITH_AS(Tensor::empty({2}, DType::f32, missing),
                       doctest::Contains("CUDA device(s) exist"), Error);
  CHECK_THROWS_WITH_AS(nn::to_device(Tensor::ones({2}), missing),
                       doctest::Contains("CUDA device(s) exist"), Error);
}
