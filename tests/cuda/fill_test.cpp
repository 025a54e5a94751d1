// Every CUDA kernel is checked against the CPU on the same inputs.
#include <doctest/doctest.h>

#include "kernels/elementwise.h"
#include "nn/functional.h"

using namespace ar1;

TEST_CASE("cuda fill and host-device copies match the cpu") {
  const Tensor host = Tensor::from_vector({1, 2, 3, 4, 5}, {5});
  Tensor dev = nn::to_device(host, Device::cuda());
  CHECK(dev.device() == Device::cuda());
  CHECK(nn::to_device(dev, Device::cpu()).to_vector<float>() == host.to_vector<float>());
  kernels::fill(dev.device(), static_cast<float*>(dev.raw_data()), 2.5f, dev.numel());
  Tensor expect = Tensor::empty({5});
  kernels::fill(Device::cpu(), expect.data<float>(), 2.5f, 5);
  CHECK(nn::to_device(dev, Device::cpu()).to_vector<float>() == expect.to_vector<float>());
}

TEST_CASE("cuda ops without a CUDA implementation yet raise a clear error") {
  const Tensor dev = nn::to_device(Tensor::ones({1, 1, 3, 3}), Device::cuda());
  CHECK_THROWS_WITH_AS(nn::relu(dev), doctest::Contains("no CUDA implementation"), Error);
}
