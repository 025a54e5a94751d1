// SGD against a hand computation in PyTorch's convention (SPEC.md section 3).
#include <doctest/doctest.h>

#include "nn/optim/sgd.h"

using namespace ar1;

TEST_CASE("SGD with momentum and weight decay matches two steps by hand") {
  Tensor w = Tensor::from_vector({1.f, -2.f}, {2}).set_requires_grad(true);
  Tensor frozen = Tensor::from_vector({3.f}, {1}).set_requires_grad(true);
  nn::SGD opt({{"w", w}, {"frozen", frozen}}, {0.1, 0.9, 0.01});
  // Step 1: d = g + 0.01 w, v = d, w -= 0.1 v.
  w.set_grad(Tensor::from_vector({0.5f, 0.25f}, {2}));
  opt.step();
  const double d1[2] = {0.5 + 0.01 * 1, 0.25 + 0.01 * -2};
  const double w1[2] = {1 - 0.1 * d1[0], -2 - 0.1 * d1[1]};
  CHECK(w.data<float>()[0] == doctest::Approx(w1[0]).epsilon(1e-6));
  CHECK(w.data<float>()[1] == doctest::Approx(w1[1]).epsilon(1e-6));
  CHECK(frozen.data<float>()[0] == 3.f);  // no gradient: skipped
  // Step 2: v = 0.9 v + (g + 0.01 w), w -= 0.1 v.
  w.set_grad(Tensor::from_vector({-1.f, 2.f}, {2}));
  opt.step();
  double v2[2], w2[2];
  const double g2[2] = {-1, 2};
  for (int i = 0; i < 2; ++i) {
    v2[i] = 0.9 * d1[i] + g2[i] + 0.01 * w1[i];
    w2[i] = w1[i] - 0.1 * v2[i];
    CHECK(w.data<float>()[i] == doctest::Approx(w2[i]).epsilon(1e-6));
  }
  // The momentum buffer is visible and restorable.
  const nn::StateDict st = opt.state();
  REQUIRE(st.size() == 1);
  CHECK(st[0].first == "w");
  CHECK(st[0].second.data<float>()[1] == doctest::Approx(v2[1]).epsilon(1e-6));

  nn::SGD other({{"w", w}, {"frozen", frozen}}, {0.1, 0.9, 0.01});
  other.load_state(st);
  CHECK(other.state()[0].second.to_vector<float>() == st[0].second.to_vector<float>());
  CHECK_THROWS_WITH_AS(other.load_state({{"nope", Tensor::zeros({2})}}),
                       doctest::Contains("'nope' is not a parameter"), ar1::Error);
  CHECK_THROWS_AS(other.load_state({{"w", Tensor::zeros({3})}}), ar1::Error);

  // After reset_momentum the next step starts again from v = d.
  opt.reset_momentum();
  CHECK(opt.state().empty());
  const float before = w.data<float>()[0];
  w.set_grad(Tensor::from_vector({1.f, 0.f}, {2}));
  opt.set_lr(0.5);
  opt.step();
  CHECK(w.data<float>()[0] == doctest::Approx(before - 0.5 * (1 + 0.01 * before)).epsilon(1e-6));

  opt.zero_grad();
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("SGD without momentum is plain gradient descent") {
  Tensor w = Tensor::from_vector({2.f}, {1}).set_requires_grad(true);
  nn::SGD opt({{"w", w}}, {0.5, 0.0, 0.0});
  w.set_grad(Tensor::from_vector({1.f}, {1}));
  opt.step();
  opt.step();
  CHECK(w.data<float>()[0] == 1.f);
  CHECK(opt.state().empty());
}
