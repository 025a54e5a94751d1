// Layers are thin wrappers: each forward equals its functional op; initialisers have the
// promised spread.
#include <doctest/doctest.h>

#include <cmath>

#include "nn/modules/all.h"
#include "tests/support/gradcheck.h"

using namespace ar1;

namespace {
double stddev(const Tensor& t) {
  const auto v = t.to_vector<float>();
  double s = 0, s2 = 0;
  for (float a : v) s += a, s2 += double(a) * a;
  const double m = s / v.size();
  return std::sqrt(s2 / v.size() - m * m);
}
}  // namespace

TEST_CASE("Conv2d, Linear, pooling, Flatten, ReLU and CrossEntropyLoss call their functional op") {
  Generator gen(1);
  const Tensor x = normal({2, 4, 6, 6}, gen);
  nn::Conv2d dw({4, 4, 3, 2, 1, 4}, gen);
  CHECK(dw.weight().shape() == Shape{4, 1, 3, 3});
  CHECK(ar1::testing::max_abs_diff(dw(x), nn::conv2d(x, dw.weight(), {2, 1, 4})) == 0.0);
  nn::AvgPool2d pool(2);
  CHECK(pool(x).shape() == Shape{2, 4, 3, 3});
  nn::GlobalAvgPool2d gap;
  CHECK(gap(x).shape() == Shape{2, 4, 1, 1});
  nn::Flatten flat;
  CHECK(flat(gap(x)).shape() == Shape{2, 4});
  nn::ReLU relu;
  CHECK(ar1::testing::max_abs_diff(relu(x), nn::relu(x)) == 0.0);
  nn::Linear fc({4, 3, true}, gen);
  const Tensor h = flat(gap(x));
  CHECK(ar1::testing::max_abs_diff(fc(h), nn::linear(h, fc.weight(), fc.bias())) == 0.0);
  nn::Linear nobias({4, 3, false}, gen);
  CHECK_FALSE(nobias.bias().defined());
  CHECK(nobias.named_parameters().size() == 1);
  nn::CrossEntropyLoss ce;
  const Tensor labels = Tensor::from_i64({0, 2}, {2});
  CHECK(ce(fc(h), labels).item() == nn::cross_entropy(fc(h), labels).item());
  CHECK_THROWS_WITH_AS(ce.forward(h), doctest::Contains("[CrossEntropyLoss] has no single-input"),
                       ar1::Error);
  CHECK_THROWS_AS(nn::Conv2d({4, 6, 3, 1, 1, 4}, gen), ar1::Error);  // 4 does not divide 6
}

TEST_CASE("weight initialisers give the PyTorch default bound and the Kaiming-normal fan_in and per-group fan_out spreads") {
  Generator gen(2);
  nn::Conv2d def({64, 128, 3, 1, 1, 1}, gen);  // fan_in 576: uniform +-1/24
  const auto v = def.weight().to_vector<float>();
  const float bound = 1.f / 24.f;
  for (float a : v) REQUIRE(std::abs(a) <= bound);
  CHECK(stddev(def.weight()) == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.03));
  // kaiming (SPEC.md 3c): fan_in = 64 * 3 * 3.
  nn::Conv2d kn({64, 128, 3, 1, 1, 1}, gen, nn::WeightInit::kaiming_normal_relu);
  CHECK(stddev(kn.weight()) == doctest::Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.03));
  nn::Conv2d kout({64, 128, 3, 1, 1, 1}, gen, nn::WeightInit::kaiming_normal_relu_fan_out);
  CHECK(stddev(kout.weight()) == doctest::Approx(std::sqrt(2.0 / (128 * 9))).epsilon(0.03));
  // Depthwise: one input channel per group, and the fan_out of one group: both 1 * 3 * 3.
  for (const auto init : {nn::WeightInit::kaiming_normal_relu,
                          nn::WeightInit::kaiming_normal_relu_fan_out}) {
    nn::Conv2d kdw({128, 128, 3, 1, 1, 128}, gen, init);
    CHECK(stddev(kdw.weight()) == doctest::Approx(std::sqrt(2.0 / 9)).epsilon(0.1));
  }
}
