#pragma once
// Finite-difference gradient check, used by every differentiable op's test.
//
// check_gradients(f, inputs): marks each f32 input as requiring a gradient, runs
// y = f(inputs), back-propagates a fixed random projection g (so the scalar is sum(y * g)),
// then compares every input element's analytic gradient with the central difference
// (s(x + eps) - s(x - eps)) / 2 eps, where s sums y * g in double. An element passes when
// |analytic - numeric| <= atol + rtol * |numeric|.
//
// Tolerances: f32 forwards carry about 1e-7 relative rounding, which the difference quotient
// divides by eps; with eps = 1e-2 and O(1) values that is ~1e-5, so atol 1e-3 / rtol 1e-2 is
// strict enough to catch any wrong term (which shows as an O(1) error) without flaking. Inputs
// at a kink (ReLU at 0) must be avoided by the caller.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "core/grad_mode.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace ar1::testing {

struct GradcheckOptions {
  double eps = 1e-2;
  double atol = 1e-3;
  double rtol = 1e-2;
  uint64_t seed = 1234;
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

inline double projected_sum(const Tensor& y, const Tensor& g) {
  const std::vector<float> yv = y.to_vector<float>();
  const std::vector<float> gv = g.to_vector<float>();
  double s = 0.0;
  for (size_t i = 0; i < yv.size(); ++i) s += static_cast<double>(yv[i]) * gv[i];
  return s;
}

// Returns the largest |analytic - numeric| seen, after CHECKing every element.
inline double check_gradients(const TensorFn& f, std::vector<Tensor> inputs,
                              const GradcheckOptions& opt = {}) {
  for (Tensor& t : inputs) {
    if (t.dtype() == DType::f32) t = t.clone().detach().set_requires_grad(true);
  }
  Tensor y = f(inputs);
  Generator gen(opt.seed);
  const Tensor g = normal(y.shape(), gen);
  y.backward(g);

  double worst = 0.0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor& x = inputs[i];
    if (x.dtype() != DType::f32) continue;
    REQUIRE_MESSAGE(x.grad().defined(), "input ", i, " got no gradient");
    const std::vector<float> analytic = x.grad().to_vector<float>();
    float* p = x.data<float>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const float saved = p[j];
      double plus, minus;
      {
        NoGradGuard no_grad;
        p[j] = saved + static_cast<float>(opt.eps);
        plus = projected_sum(f(inputs), g);
        p[j] = saved - static_cast<float>(opt.eps);
        minus = projected_sum(f(inputs), g);
      }
      p[j] = saved;
      const double numeric = (plus - minus) / (2.0 * opt.eps);
      const double err = std::abs(analytic[static_cast<size_t>(j)] - numeric);
      worst = std::max(worst, err);
      CHECK_MESSAGE(err <= opt.atol + opt.rtol * std::abs(numeric), "input ", i, " element ", j,
                    ": analytic ", analytic[static_cast<size_t>(j)], " numeric ", numeric);
    }
  }
  return worst;
}

// Max |a - b| over two same-shaped tensors (after CHECKing the shapes).
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto av = a.to_vector<float>();
  const auto bv = b.to_vector<float>();
  double m = 0.0;
  for (size_t i = 0; i < av.size(); ++i) m = std::max(m, std::abs(double(av[i]) - bv[i]));
  return m;
}

// Values in [-high, -low] U [low, high]: away from ReLU's kink at 0.
inline Tensor away_from_zero(const Shape& shape, Generator& gen, float low = 0.1f,
                             float high = 1.f) {
  Tensor t = uniform(shape, gen, low, high);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (gen.next_float() < 0.5f) p[i] = -p[i];
  }
  return t;
}

}  // namespace ar1::testing
