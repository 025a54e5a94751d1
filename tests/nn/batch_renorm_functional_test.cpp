// nn::batch_renorm: gradients (finite differences), evaluation values against a naive loop,
// the running-statistics update, and BatchReNorm2d's r_max / d_max schedule.
//
// Tolerances: check_gradients' defaults (atol 1e-3, rtol 1e-2, see gradcheck.h) where r and d
// sit on a clip bound (then they really are constant and finite differences see the same
// function autograd does). Where clipping is inactive, r and d move with x but are constants
// for autograd (SPEC.md section 2), so dx is checked against central differences of a double
// precision reference that holds r and d at their forward values: atol 1e-4 + rtol 1e-3
// (f32 forward/backward against double).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/threading.h"
#include "nn/functional.h"
#include "nn/modules/batch_renorm2d.h"
#include "tests/support/gradcheck.h"

using namespace ar1;
using ar1::testing::check_gradients;

namespace {

// Double-precision training forward of SPEC.md section 2 on x [n, c, hw]. When r_fixed / d_fixed
// are given, they replace the clipped r and d (for differentiating with r, d held constant).
struct RefOut {
  std::vector<double> y, r, d, mean, std;
};
RefOut reference_train(const std::vector<double>& x, const Shape& s, const std::vector<float>& g,
                       const std::vector<float>& b, const std::vector<float>& mu,
                       const std::vector<float>& sigma, double r_max, double d_max, bool relu,
                       const std::vector<double>* r_fixed = nullptr,
                       const std::vector<double>* d_fixed = nullptr, double eps = 1e-5) {
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3];
  RefOut o;
  o.y.resize(x.size());
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) sum += x[(i * c + ch) * hw + j];
    const double m = sum / (n * hw);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) sq += std::pow(x[(i * c + ch) * hw + j] - m, 2);
    const double sb = std::sqrt(sq / (n * hw) + eps);
    double r = std::clamp(sb / sigma[ch], 1 / r_max, r_max);
    double d = std::clamp((m - mu[ch]) / sigma[ch], -d_max, d_max);
    if (r_fixed) r = (*r_fixed)[ch];
    if (d_fixed) d = (*d_fixed)[ch];
    o.r.push_back(r), o.d.push_back(d), o.mean.push_back(m), o.std.push_back(sb);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) {
        const int64_t k = (i * c + ch) * hw + j;
        double y = g[ch] * ((x[k] - m) / sb * r + d) + b[ch];
        o.y[k] = relu ? std::max(y, 0.0) : y;
      }
  }
  return o;
}

std::vector<double> to_double(const Tensor& t) {
  const auto v = t.to_vector<float>();
  return {v.begin(), v.end()};
}

struct Case {
  const char* name;
  float sigma, mu;  // running statistics (every channel)
  float r_max, d_max;
  bool relu;
};

// Inputs whose output under `p` keeps at least `margin` away from 0 (ReLU's kink).
Tensor input_away_from_kink(const Shape& s, const Tensor& gamma, const Tensor& beta,
                            const Tensor& mu, const Tensor& sigma, const nn::BatchReNormParams& p,
                            float margin, uint64_t seed) {
  for (uint64_t k = 0; k < 1000; ++k) {
    Generator gen(seed + k);
    Tensor x = normal(s, gen);
    NoGradGuard ng;
    nn::BatchReNormParams pre = p;  // the values the ReLU sees
    pre.relu = false;
    Tensor y = nn::batch_renorm(x, gamma, beta, mu.clone(), sigma.clone(), pre);
    const auto v = y.to_vector<float>();
    const bool ok = std::all_of(v.begin(), v.end(), [&](float a) { return std::abs(a) > margin; });
    if (ok) return x;
  }
  FAIL("no input away from the ReLU kink found");
  return {};
}

}  // namespace

TEST_CASE("batch_renorm gradients match finite differences with r and d clipped") {
  const Case cases[] = {
      {"r above r_max, d below -d_max", 0.4f, 3.f, 1.5f, 0.5f, false},
      {"r below 1/r_max, d above d_max", 4.f, -9.f, 1.5f, 0.5f, false},
      {"fresh layer r_max 1 d_max 0", 1.f, 0.f, 1.f, 0.f, false},
      {"r above r_max, fused relu", 0.4f, 3.f, 1.5f, 0.5f, true},
      {"fresh layer, fused relu", 1.f, 0.f, 1.f, 0.f, true},
  };
  const Shape s{2, 3, 3, 3};
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Generator gen(21);
    const Tensor gamma = uniform({3}, gen, 0.5f, 1.5f);
    const Tensor beta = uniform({3}, gen, -0.3f, 0.3f);
    const Tensor mu = Tensor::full({3}, c.mu), sigma = Tensor::full({3}, c.sigma);
    nn::BatchReNormParams p;
    p.r_max = c.r_max, p.d_max = c.d_max, p.relu = c.relu, p.momentum = 0.1f;
    const Tensor x = c.relu ? input_away_from_kink(s, gamma, beta, mu, sigma, p, 0.1f, 100)
                            : normal(s, gen);
    // Fresh copies of the running statistics per call: every evaluation sees the same ones.
    auto f = [&](const std::vector<Tensor>& in) {
      return nn::batch_renorm(in[0], in[1], in[2], mu.clone(), sigma.clone(), p);
    };
    ar1::testing::GradcheckOptions opt;
    opt.eps = c.relu ? 3e-3 : 1e-2;
    check_gradients(f, {x, gamma, beta}, opt);
  }
}

TEST_CASE("batch_renorm gradients with r and d inside the clip range treat them as constants") {
  for (const bool relu : {false, true}) {
    CAPTURE(relu);
    const Shape s{2, 3, 2, 3};
    Generator gen(31);
    const Tensor gamma = uniform({3}, gen, 0.5f, 1.5f);
    const Tensor beta = uniform({3}, gen, -0.3f, 0.3f);
    const Tensor mu = Tensor::from_vector({0.1f, -0.2f, 0.05f}, {3});
    const Tensor sigma = Tensor::from_vector({0.6f, 1.5f, 0.8f}, {3});
    nn::BatchReNormParams p;
    p.r_max = 3.f, p.d_max = 5.f, p.relu = relu;
    const Tensor x = input_away_from_kink(s, gamma, beta, mu, sigma, p, relu ? 0.05f : 0.f, 7);

    // gamma and beta: r and d do not depend on them, so plain finite differences apply.
    auto f = [&](const std::vector<Tensor>& in) {
      return nn::batch_renorm(x, in[0], in[1], mu.clone(), sigma.clone(), p);
    };
    ar1::testing::GradcheckOptions opt;
    opt.eps = relu ? 3e-3 : 1e-2;
    check_gradients(f, {gamma, beta}, opt);

    // x: analytic gradient against differences of the reference with r, d held fixed.
    const auto gv = gamma.to_vector<float>(), bv = beta.to_vector<float>();
    const auto muv = mu.to_vector<float>(), sv = sigma.to_vector<float>();
    const std::vector<double> x0 = to_double(x);
    const RefOut base = reference_train(x0, s, gv, bv, muv, sv, p.r_max, p.d_max, relu);
    for (int ch = 0; ch < 3; ++ch) {  // inside the range indeed
      CHECK(base.r[ch] > 1 / 3.0);
      CHECK(base.r[ch] < 3.0);
      CHECK(std::abs(base.d[ch]) < 5.0);
      CHECK(std::abs(base.r[ch] - 1.0) > 1e-3);  // r really moves with x
    }
    Generator ggen(5);
    const Tensor proj = normal(s, ggen);
    const auto pv = proj.to_vector<float>();
    Tensor xv = x.clone().set_requires_grad(true);
    nn::batch_renorm(xv, gamma, beta, mu.clone(), sigma.clone(), p).backward(proj);
    const auto analytic = xv.grad().to_vector<float>();
    const double h = 1e-5;
    for (size_t j = 0; j < x0.size(); ++j) {
      auto score = [&](double delta) {
        std::vector<double> xp = x0;
        xp[j] += delta;
        const RefOut o =
            reference_train(xp, s, gv, bv, muv, sv, p.r_max, p.d_max, relu, &base.r, &base.d);
        double sum = 0;
        for (size_t k = 0; k < xp.size(); ++k) sum += o.y[k] * pv[k];
        return sum;
      };
      const double numeric = (score(h) - score(-h)) / (2 * h);
      CHECK_MESSAGE(std::abs(analytic[j] - numeric) <= 1e-4 + 1e-3 * std::abs(numeric),
                    "element ", j, ": analytic ", analytic[j], " numeric ", numeric);
    }
  }
}

TEST_CASE("batch_renorm training forward matches the reference and updates running statistics") {
  const Shape s{3, 2, 2, 2};
  Generator gen(41);
  const Tensor x = normal(s, gen, 0.5f, 2.f);
  const Tensor gamma = Tensor::from_vector({1.5f, 0.7f}, {2});
  const Tensor beta = Tensor::from_vector({0.1f, -0.4f}, {2});
  Tensor mu = Tensor::from_vector({0.2f, 1.f}, {2});
  Tensor sigma = Tensor::from_vector({1.5f, 3.f}, {2});
  const auto mu0 = mu.to_vector<float>(), sigma0 = sigma.to_vector<float>();
  nn::BatchReNormParams p;
  p.r_max = 1.2f, p.d_max = 0.1f, p.momentum = 0.25f;
  const Tensor y = nn::batch_renorm(x, gamma, beta, mu, sigma, p);
  const RefOut ref = reference_train(to_double(x), s, gamma.to_vector<float>(),
                                     beta.to_vector<float>(), mu0, sigma0, 1.2, 0.1, false);
  const auto yv = y.to_vector<float>();
  for (size_t k = 0; k < yv.size(); ++k) CHECK(yv[k] == doctest::Approx(ref.y[k]).epsilon(1e-5));
  // By hand: mu += m (mu_B - mu), sigma += m (s_B - sigma).
  for (int ch = 0; ch < 2; ++ch) {
    CHECK(mu.data<float>()[ch] ==
          doctest::Approx(mu0[ch] + 0.25 * (ref.mean[ch] - mu0[ch])).epsilon(1e-6));
    CHECK(sigma.data<float>()[ch] ==
          doctest::Approx(sigma0[ch] + 0.25 * (ref.std[ch] - sigma0[ch])).epsilon(1e-6));
  }
  // Evaluation leaves them alone.
  p.training = false;
  const auto mu1 = mu.to_vector<float>();
  nn::batch_renorm(x, gamma, beta, mu, sigma, p);
  CHECK(mu.to_vector<float>() == mu1);
}

TEST_CASE("batch_renorm evaluation forward matches a naive loop, with and without relu") {
  const Shape s{2, 4, 3, 5};
  Generator gen(51);
  const Tensor x = normal(s, gen);
  const Tensor gamma = normal({4}, gen), beta = normal({4}, gen);
  const Tensor mu = normal({4}, gen), sigma = uniform({4}, gen, 0.5f, 2.f);
  for (const bool relu : {false, true}) {
    nn::BatchReNormParams p;
    p.training = false, p.relu = relu;
    const auto y = nn::batch_renorm(x, gamma, beta, mu, sigma, p).to_vector<float>();
    const auto xv = x.to_vector<float>();
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t c = 0; c < 4; ++c)
        for (int64_t j = 0; j < 15; ++j) {
          const int64_t k = (i * 4 + c) * 15 + j;
          double want = gamma.data<float>()[c] * (xv[k] - mu.data<float>()[c]) /
                            sigma.data<float>()[c] +
                        beta.data<float>()[c];
          if (relu) want = std::max(want, 0.0);
          CHECK(y[k] == doctest::Approx(want).epsilon(1e-5).scale(1.0));
        }
  }
}

TEST_CASE("batch_renorm evaluation gradients match finite differences") {
  Generator gen(61);
  const Tensor mu = normal({3}, gen), sigma = uniform({3}, gen, 0.5f, 2.f);
  nn::BatchReNormParams p;
  p.training = false;
  check_gradients(
      [&](const std::vector<Tensor>& in) {
        return nn::batch_renorm(in[0], in[1], in[2], mu, sigma, p);
      },
      {normal({2, 3, 2, 2}, gen), normal({3}, gen), normal({3}, gen)});
}

TEST_CASE("batch_renorm fused relu equals relu after batch_renorm") {
  Generator gen(71);
  const Tensor x = normal({4, 5, 3, 3}, gen);
  const Tensor gamma = normal({5}, gen), beta = normal({5}, gen);
  nn::BatchReNormParams p;
  p.r_max = 1.3f, p.d_max = 0.2f, p.momentum = 0.f;
  const Tensor mu = normal({5}, gen), sigma = uniform({5}, gen, 0.5f, 2.f);
  const Tensor plain = nn::relu(nn::batch_renorm(x, gamma, beta, mu, sigma, p));
  p.relu = true;
  const Tensor fused = nn::batch_renorm(x, gamma, beta, mu, sigma, p);
  CHECK(ar1::testing::max_abs_diff(plain, fused) == 0.0);
}

TEST_CASE("batch_renorm results are bit-identical across thread counts") {
  Generator gen(81);
  const Tensor x = normal({8, 16, 7, 7}, gen);
  const Tensor gamma = normal({16}, gen), beta = normal({16}, gen);
  const Tensor proj = normal({8, 16, 7, 7}, gen);
  auto run = [&](int threads) {
    kernels::set_num_threads(threads);
    Tensor xv = x.clone().set_requires_grad(true);
    Tensor g = gamma.clone().set_requires_grad(true);
    Tensor mu = Tensor::zeros({16}), sigma = Tensor::ones({16});
    nn::BatchReNormParams p;
    p.r_max = 1.1f, p.d_max = 0.1f;
    Tensor y = nn::batch_renorm(xv, g, beta, mu, sigma, p);
    y.backward(proj);
    return std::vector<Tensor>{y, xv.grad(), g.grad(), mu, sigma};
  };
  const auto one = run(1);
  const auto many = run(4);
  kernels::set_num_threads(0);
  for (size_t i = 0; i < one.size(); ++i) {
    CAPTURE(i);
    CHECK(one[i].to_vector<float>() == many[i].to_vector<float>());
  }
}

TEST_CASE("batch_renorm rejects mismatched shapes and strided running statistics") {
  const Tensor x = Tensor::zeros({2, 3, 2, 2});
  const Tensor ok = Tensor::ones({3});
  CHECK_THROWS_WITH_AS(nn::batch_renorm(x, Tensor::ones({4}), ok, ok.clone(), ok.clone(), {}),
                       doctest::Contains("[batch_renorm] gamma must be [3]"), ar1::Error);
  CHECK_THROWS_WITH_AS(nn::batch_renorm(Tensor::zeros({2, 3}), ok, ok, ok.clone(), ok.clone(), {}),
                       doctest::Contains("[batch_renorm] input [N, C, H, W] must have 4 dims"),
                       ar1::Error);
}

TEST_CASE("BatchReNorm2d starts fresh and steps r_max and d_max after each training forward") {
  nn::BatchReNormOptions o;
  o.r_d_inc = 0.01, o.max_r_max = 1.05, o.max_d_max = 0.03, o.momentum = 0.5;
  nn::BatchReNorm2d bn(2, o);
  CHECK(bn.running_mean().to_vector<float>() == std::vector<float>{0.f, 0.f});
  CHECK(bn.running_std().to_vector<float>() == std::vector<float>{1.f, 1.f});
  CHECK(bn.gamma().to_vector<float>() == std::vector<float>{1.f, 1.f});
  CHECK(bn.beta().to_vector<float>() == std::vector<float>{0.f, 0.f});
  CHECK(bn.r_max() == 1.0);
  CHECK(bn.d_max() == 0.0);

  Generator gen(91);
  const Tensor x = normal({2, 2, 3, 3}, gen, 1.f, 3.f);  // N = 2: steps of 0.02
  // First forward uses r_max 1, d_max 0: plain batch normalisation.
  const Tensor y = bn.forward(x);
  const RefOut ref = reference_train(to_double(x), x.shape(), {1, 1}, {0, 0}, {0, 0}, {1, 1}, 1,
                                     0, false);
  const auto yv = y.to_vector<float>();
  for (size_t k = 0; k < yv.size(); ++k) CHECK(yv[k] == doctest::Approx(ref.y[k]).epsilon(1e-5));
  CHECK(bn.r_max() == doctest::Approx(1.02));
  CHECK(bn.d_max() == doctest::Approx(0.02));
  bn.forward(x);
  CHECK(bn.r_max() == doctest::Approx(1.04));
  CHECK(bn.d_max() == doctest::Approx(0.04));  // 0.02 < 0.03: one more step, past the cap
  bn.forward(x);
  CHECK(bn.r_max() == doctest::Approx(1.06));
  CHECK(bn.d_max() == doctest::Approx(0.04));
  bn.forward(x);
  CHECK(bn.r_max() == doctest::Approx(1.06));
  // Running mean after one forward with momentum 0.5 from 0: half the batch mean.
  bn.eval();
  const auto before = bn.running_mean().to_vector<float>();
  bn.forward(x);
  CHECK(bn.r_max() == doctest::Approx(1.06));
  CHECK(bn.running_mean().to_vector<float>() == before);
}
