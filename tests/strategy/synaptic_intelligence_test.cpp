#include <doctest/doctest.h>

#include "nn/functional.h"
#include "strategy/synaptic_intelligence.h"

using namespace ar1;
using namespace ar1::strategy;

TEST_CASE("synaptic intelligence importance and penalty on a hand-computed example") {
  // One parameter theta = (1, 2). Two SGD-like updates with known gradients.
  Tensor theta = Tensor::from_vector({1.f, 2.f}, {2});
  theta.set_requires_grad(true);
  SynapticIntelligence si(/*lambda=*/4.f, {{"w", theta}});
  si.before_experience();  // theta* = (1, 2)
  CHECK(si.penalty().item() == 0.f);  // importance starts at zero

  auto step = [&](std::vector<float> grad, std::vector<float> next) {
    theta.set_grad(Tensor::from_vector(grad, {2}));
    si.before_update();
    std::copy(next.begin(), next.end(), theta.data<float>());
    si.after_update();
  };
  step({0.5f, -1.f}, {0.9f, 2.2f});   // traj += (0.5 * -0.1, -1 * 0.2) = (-0.05, -0.2)
  step({0.25f, -0.5f}, {0.8f, 2.3f});  // traj += (0.25 * -0.1, -0.5 * 0.1) -> (-0.075, -0.25)
  si.after_experience();
  // cum = traj / ((theta - theta*)^2 + 1e-7): (-0.075 / 0.04, -0.25 / 0.09) = (-1.875, -2.78)
  // imp = min(-cum, 0.001) = (0.001, 0.001)
  const auto imp = si.importance()[0].to_vector<float>();
  CHECK(imp[0] == doctest::Approx(0.001));
  CHECK(imp[1] == doctest::Approx(0.001));

  // A step the wrong way (positive trajectory) gives a negative importance.
  si.before_experience();  // theta* = (0.8, 2.3)
  step({1.f, 0.f}, {1.0f, 2.3f});  // traj = (0.2, 0)
  si.after_experience();
  // cum[0] = -1.875 + 0.2 / 0.04 = 3.125 -> imp[0] = -3.125; cum[1] unchanged (traj 0)
  CHECK(si.importance()[0].to_vector<float>()[0] == doctest::Approx(-3.125).epsilon(1e-4));
  CHECK(si.importance()[0].to_vector<float>()[1] == doctest::Approx(0.001));

  // Penalty (lambda / 2) sum imp (theta - theta*)^2 and its gradient lambda imp (theta - theta*).
  theta.data<float>()[0] = 1.5f;  // theta* = (1.0, 2.3)
  theta.data<float>()[1] = 2.5f;
  theta.zero_grad();
  const Tensor p = si.penalty();
  const double expect = 2.0 * (-3.125 * 0.25 + 0.001 * 0.04);
  CHECK(p.item() == doctest::Approx(expect).epsilon(1e-4));
  p.backward();
  CHECK(theta.grad().to_vector<float>()[0] == doctest::Approx(4 * -3.125 * 0.5).epsilon(1e-4));
  CHECK(theta.grad().to_vector<float>()[1] == doctest::Approx(4 * 0.001 * 0.2).epsilon(1e-4));
}

TEST_CASE("synaptic intelligence state round trip") {
  Tensor theta = Tensor::from_vector({1.f, 2.f, 3.f}, {3});
  theta.set_requires_grad(true);
  SynapticIntelligence si(1.f, {{"w", theta}});
  si.before_experience();
  theta.set_grad(Tensor::from_vector({1.f, 1.f, 1.f}, {3}));
  si.before_update();
  theta.data<float>()[0] = 0.5f;
  si.after_update();
  si.after_experience();
  SynapticIntelligence other(1.f, {{"w", theta}});
  other.load_state(si.state());
  CHECK(other.importance()[0].to_vector<float>() == si.importance()[0].to_vector<float>());
  CHECK_THROWS_AS(other.load_state({}), Error);
}
