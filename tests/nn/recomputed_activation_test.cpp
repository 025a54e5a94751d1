// A convolution after a training-mode BatchReNorm with its fused ReLU keeps the BatchReNorm
// node instead of the activation (nn/functional/saved_activation.h): the activation must be
// freed once the forward has moved on, and every gradient must keep its bits (compared with a
// run where the convolution reads a copy, which it has to keep).
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "core/rng.h"
#include "nn/functional.h"

using namespace ar1;

namespace {

struct Grads {
  std::vector<float> w1, gamma, beta, w2;
  bool activation_freed = false;
};

// conv (3x3) -> BatchReNorm (+ ReLU) -> conv (depthwise 3x3 or pointwise), loss sum(z * r).
Grads run(bool depthwise, bool copy_activation, const nn::BatchReNormParams& p) {
  Generator gen(7);
  const Tensor x = normal({2, 3, 7, 7}, gen);
  Tensor w1 = normal({4, 3, 3, 3}, gen, 0.f, 0.3f).set_requires_grad(true);
  Tensor gamma = normal({4}, gen, 1.f, 0.2f).set_requires_grad(true);
  Tensor beta = normal({4}, gen, 0.f, 0.2f).set_requires_grad(true);
  const Tensor mean = Tensor::zeros({4}), std = Tensor::full({4}, 1.f);
  Tensor w2 = depthwise ? normal({4, 1, 3, 3}, gen, 0.f, 0.3f) : normal({5, 4, 1, 1}, gen);
  w2.set_requires_grad(true);
  const nn::ConvParams second = depthwise ? nn::ConvParams{1, 1, 4} : nn::ConvParams{1, 0, 1};

  Grads g;
  Tensor z;
  std::weak_ptr<Storage> storage;
  {
    const Tensor y = nn::batch_renorm(nn::conv2d(x, w1, {1, 1, 1}), gamma, beta, mean, std, p);
    storage = y.storage();
    z = nn::conv2d(copy_activation ? y.clone() : y, w2, second);
  }
  // y is out of scope: only what the graph saved can still hold its storage.
  g.activation_freed = storage.expired();
  const Tensor r = normal(z.shape(), gen);
  nn::sum(nn::mul(z, r)).backward();
  g.w1 = w1.grad().to_vector<float>();
  g.gamma = gamma.grad().to_vector<float>();
  g.beta = beta.grad().to_vector<float>();
  g.w2 = w2.grad().to_vector<float>();
  return g;
}

void check_same_bits(const Grads& a, const Grads& b) {
  CHECK(a.w1 == b.w1);
  CHECK(a.gamma == b.gamma);
  CHECK(a.beta == b.beta);
  CHECK(a.w2 == b.w2);
}

}  // namespace

TEST_CASE("recomputed BatchReNorm output: freed after the forward, gradients keep their bits") {
  nn::BatchReNormParams p;
  p.relu = true;
  p.r_max = 2.f, p.d_max = 1.f;
  for (const bool depthwise : {false, true}) {
    CAPTURE(depthwise);
    const Grads recomputed = run(depthwise, false, p);
    const Grads copied = run(depthwise, true, p);
    CHECK(recomputed.activation_freed);
    check_same_bits(recomputed, copied);
  }
}

TEST_CASE("recomputed BatchReNorm output: kept where it cannot be recomputed") {
  nn::BatchReNormParams p;
  SUBCASE("no fused ReLU") { p.relu = false; }
  SUBCASE("evaluation mode") {
    p.relu = true;
    p.training = false;
  }
  const Grads g = run(false, false, p);
  CHECK_FALSE(g.activation_freed);
}
