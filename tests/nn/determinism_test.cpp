// Determinism: the same seed and inputs give bit-identical CPU results, run after run.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "core/rng.h"
#include "nn/functional.h"

using namespace ar1;

namespace {

struct StepResult {
  Tensor loss, grad_conv, grad_dw, grad_linear;
};

// One forward/backward of a small net, everything drawn from `seed`.
StepResult step(uint64_t seed) {
  Generator gen(seed);
  const Tensor x = normal({8, 3, 16, 16}, gen);
  Tensor w1 = kaiming_normal({16, 3, 3, 3}, gen, FanMode::fan_out, std::sqrt(2.0));
  Tensor w2 = kaiming_normal({16, 1, 3, 3}, gen, FanMode::fan_out, std::sqrt(2.0));
  Tensor w3 = kaiming_uniform({10, 16}, gen, FanMode::fan_in, std::sqrt(1.0 / 3.0));
  for (Tensor* w : {&w1, &w2, &w3}) w->set_requires_grad(true);
  std::vector<int64_t> labels;
  for (int64_t i : randperm(8, gen)) labels.push_back(i);
  Tensor h = nn::relu(nn::conv2d(x, w1, {2, 1, 1}));
  h = nn::relu(nn::conv2d(h, w2, {1, 1, 16}));
  const Tensor loss = nn::cross_entropy(
      nn::linear(nn::global_avg_pool2d(h).flatten(), w3), Tensor::from_i64(labels, {8}));
  loss.backward();
  return {loss, w1.grad(), w2.grad(), w3.grad()};
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), static_cast<size_t>(a.numel()) * 4) == 0;
}

}  // namespace

TEST_CASE("determinism: the same seed gives bit-identical loss and gradients") {
  const StepResult a = step(3), b = step(3), c = step(4);
  CHECK(same_bits(a.loss, b.loss));
  CHECK(same_bits(a.grad_conv, b.grad_conv));
  CHECK(same_bits(a.grad_dw, b.grad_dw));
  CHECK(same_bits(a.grad_linear, b.grad_linear));
  CHECK_FALSE(same_bits(a.loss, c.loss));
}
