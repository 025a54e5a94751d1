// Forward values of the functional ops against independent computations: naive loops written
// here (pooling, cross-entropy, linear) or the reference convolution in kernels/cpu/reference.
// Tolerance: 1e-5 absolute on O(1) values (f32 sums of at most a few hundred terms).
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/conv2d.h"
#include "nn/functional.h"
#include "tests/support/gradcheck.h"

using namespace ar1;

TEST_CASE("functional conv2d forward matches the reference loops, dense depthwise strided") {
  struct Case {
    Shape x, w;
    nn::ConvParams p;
  };
  const Case cases[] = {{{2, 3, 8, 8}, {5, 3, 3, 3}, {1, 1, 1}},
                        {{2, 3, 9, 9}, {5, 3, 3, 3}, {2, 1, 1}},
                        {{1, 6, 7, 7}, {6, 1, 3, 3}, {1, 1, 6}},
                        {{2, 6, 8, 8}, {6, 1, 3, 3}, {2, 1, 6}},
                        {{2, 4, 5, 5}, {7, 4, 1, 1}, {1, 0, 1}}};
  for (const Case& c : cases) {
    Generator gen(3);
    const Tensor x = normal(c.x, gen), w = normal(c.w, gen);
    const Tensor y = nn::conv2d(x, w, c.p);
    kernels::ConvDesc d{c.x[0], c.x[1], c.x[2], c.x[3], c.w[0], c.w[2], c.w[3],
                        c.p.stride, c.p.padding, c.p.groups};
    Tensor expect = Tensor::empty({d.n, d.c_out, d.oh(), d.ow()});
    kernels::reference::conv2d_forward(expect.data<float>(), x.data<float>(), w.data<float>(), d);
    CHECK(y.shape() == expect.shape());
    CHECK(ar1::testing::max_abs_diff(y, expect) <= 1e-5);
  }
}

TEST_CASE("functional conv2d forward on a hand-computed example") {
  // 1x1x3x3 input 1..9, a 2x2 all-ones kernel, stride 1, no padding: window sums.
  const Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Tensor w = Tensor::ones({1, 1, 2, 2});
  const std::vector<float> y = nn::conv2d(x, w, {1, 0, 1}).to_vector<float>();
  CHECK(y == std::vector<float>{12, 16, 24, 28});
}

TEST_CASE("functional average pooling forward matches naive loops") {
  Generator gen(4);
  const Tensor x = normal({2, 3, 6, 4}, gen);
  const Tensor y = nn::avg_pool2d(x, {2, 2});
  REQUIRE(y.shape() == Shape{2, 3, 3, 2});
  const float* px = x.data<float>();
  const float* py = y.data<float>();
  for (int64_t p = 0; p < 6; ++p) {
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        double s = 0;
        for (int64_t a = 0; a < 2; ++a) {
          for (int64_t b = 0; b < 2; ++b) s += px[p * 24 + (2 * i + a) * 4 + 2 * j + b];
        }
        CHECK(py[p * 6 + i * 2 + j] == doctest::Approx(s / 4).epsilon(1e-6));
      }
    }
  }
  const Tensor g = nn::global_avg_pool2d(x);
  REQUIRE(g.shape() == Shape{2, 3, 1, 1});
  for (int64_t p = 0; p < 6; ++p) {
    double s = 0;
    for (int64_t k = 0; k < 24; ++k) s += px[p * 24 + k];
    CHECK(g.data<float>()[p] == doctest::Approx(s / 24).epsilon(1e-6));
  }
}

TEST_CASE("functional cross entropy forward matches the log-sum-exp formula") {
  Generator gen(5);
  const Tensor logits = normal({4, 5}, gen, 0.f, 3.f);
  const Tensor labels = Tensor::from_i64(std::vector<int64_t>{0, 4, 2, 2}, {4});
  const float loss = nn::cross_entropy(logits, labels).item();
  const float* z = logits.data<float>();
  double expect = 0;
  for (int64_t i = 0; i < 4; ++i) {
    double s = 0;
    for (int64_t c = 0; c < 5; ++c) s += std::exp(double(z[i * 5 + c]));
    expect += std::log(s) - z[i * 5 + labels.data<int64_t>()[i]];
  }
  CHECK(loss == doctest::Approx(expect / 4).epsilon(1e-6));
  // Large logits stay finite (max-subtraction): log(1 + e^-1000) ~ 0.
  const Tensor big = Tensor::from_vector({1000.f, 0.f}, {1, 2});
  CHECK(nn::cross_entropy(big, Tensor::from_i64(std::vector<int64_t>{0}, {1})).item() ==
        doctest::Approx(0.0).epsilon(1e-6));
}

TEST_CASE("functional linear, add with per-channel broadcast, sum and mean forward values") {
  const Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor w = Tensor::from_vector({1, 0, -1, 2, 1, 0}, {2, 3});
  const Tensor b = Tensor::from_vector({0.5f, -1.f}, {2});
  CHECK(nn::linear(x, w, b).to_vector<float>() == std::vector<float>{-1.5f, 3.f, -1.5f, 12.f});
  CHECK(nn::matmul(x, Tensor::from_vector({1, 0, 0, 1, 1, 1}, {3, 2})).to_vector<float>() ==
        std::vector<float>{4, 5, 10, 11});
  const Tensor a = Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  const Tensor c = Tensor::from_vector({10, 20}, {2});
  CHECK(nn::add(a, c).to_vector<float>() == std::vector<float>{11, 12, 23, 24, 15, 16, 27, 28});
  CHECK(nn::sub(a, Tensor::scalar(1)).to_vector<float>() ==
        std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(nn::mul(a, c).to_vector<float>() ==
        std::vector<float>{10, 20, 60, 80, 50, 60, 140, 160});
  CHECK(nn::sum(a).item() == 36.f);
  CHECK(nn::mean(a).item() == 4.5f);
  CHECK(nn::relu(Tensor::from_vector({-1, 0, 2}, {3})).to_vector<float>() ==
        std::vector<float>{0, 0, 2});
}

TEST_CASE("functional ops write into a caller-provided output buffer") {
  Generator gen(6);
  const Tensor x = normal({2, 3, 5, 5}, gen), w = normal({4, 3, 3, 3}, gen);
  Tensor out = Tensor::empty({2, 4, 5, 5});
  const Tensor y = nn::conv2d(x, w, {1, 1, 1}, out);
  CHECK(y.same_impl(out));
  CHECK(ar1::testing::max_abs_diff(out, nn::conv2d(x, w, {1, 1, 1})) == 0.0);
  Tensor r = Tensor::empty({2, 4, 5, 5});
  nn::relu(out, r);
  CHECK(ar1::testing::max_abs_diff(r, nn::relu(out)) == 0.0);
}
