// Channels-last (core/memory_format.h): CPU convolutions, Batch Renormalization and ReLU run on
// it and must give the plain layout's values. Convolutions are checked against the naive
// reference loops, forward and backward; batch_renorm and relu against their own plain path.
//
// Tolerance: 1e-5 of the largest reference magnitude. The channels-last kernels sum in another
// order (oneDNN's nhwc kernels; Batch Renormalization's row blocks), so only rounding differs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/memory_format.h"
#include "core/rng.h"
#include "kernels/conv2d.h"
#include "nn/functional.h"

using namespace ar1;

namespace {

constexpr double kRelTol = 1e-5;

// max |a - b| / max |b|.
double scaled_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double err = 0.0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return err / scale;
}

bool stored_channels_last(const Tensor& t) { return is_channels_last(t) && !t.is_contiguous(); }

}  // namespace

TEST_CASE("channels_last convolutions match the plain reference loops, forward and backward") {
  struct Case {
    int64_t c_in, c_out, k, stride, groups, hw = 7;
  };
  // The last two: pointwise on fewer pixel rows (3 x 2 x 2) than channels, so the sgemm path
  // cuts its products by columns (kernels/cpu/conv2d.cpp).
  for (const Case& c : {Case{3, 8, 3, 2, 1}, Case{8, 8, 3, 1, 8}, Case{8, 8, 3, 2, 8},
                        Case{8, 16, 1, 1, 1}, Case{64, 96, 1, 1, 1, 2},
                        Case{96, 64, 1, 1, 1, 2}}) {
    CAPTURE(c.c_in);
    CAPTURE(c.groups);
    CAPTURE(c.stride);
    Generator gen(11);
    Tensor x = normal({3, c.c_in, c.hw, c.hw}, gen).set_requires_grad(true);
    Tensor w = normal({c.c_out, c.c_in / c.groups, c.k, c.k}, gen).set_requires_grad(true);
    const nn::ConvParams p{c.stride, c.k / 2, c.groups};
    const Tensor y = nn::conv2d(x, w, p);
    CHECK(stored_channels_last(y));

    kernels::ConvDesc d;
    d.n = 3, d.c_in = c.c_in, d.h = c.hw, d.w = c.hw, d.c_out = c.c_out, d.kh = c.k, d.kw = c.k;
    d.stride = c.stride, d.pad = c.k / 2, d.groups = c.groups;
    std::vector<float> y_ref(static_cast<size_t>(y.numel()));
    kernels::reference::conv2d_forward(y_ref.data(), x.data<float>(), w.data<float>(), d);
    CHECK(scaled_error(y.to_vector<float>(), y_ref) < kRelTol);

    const Tensor dy = normal(y.shape(), gen);
    nn::sum(nn::mul(y, dy)).backward();
    std::vector<float> dx_ref(static_cast<size_t>(x.numel()));
    std::vector<float> dw_ref(static_cast<size_t>(w.numel()));
    kernels::reference::conv2d_backward_data(dx_ref.data(), dy.data<float>(), w.data<float>(), d);
    kernels::reference::conv2d_backward_weights(dw_ref.data(), dy.data<float>(), x.data<float>(),
                                                d);
    CHECK(scaled_error(x.grad().to_vector<float>(), dx_ref) < kRelTol);
    CHECK(scaled_error(w.grad().to_vector<float>(), dw_ref) < kRelTol);
  }
}

TEST_CASE("channels_last batch_renorm and relu give the plain layout's values and gradients") {
  for (const bool training : {true, false}) {
    CAPTURE(training);
    struct Run {
      std::vector<float> y, dx, dgamma, dbeta, running_mean, running_std;
    };
    auto run = [&](bool channels_last) {
      Generator gen(5);
      // A large mean against the spread exercises the shifted moments.
      Tensor x0 = nn::add(nn::mul(normal({4, 16, 5, 5}, gen), Tensor::scalar(2.f)),
                          Tensor::scalar(30.f));
      Tensor x = (channels_last ? x0.to_channels_last() : x0).detach().set_requires_grad(true);
      Tensor gamma = normal({16}, gen, 1.f, 0.2f).set_requires_grad(true);
      Tensor beta = normal({16}, gen, 0.f, 0.2f).set_requires_grad(true);
      Tensor mean = normal({16}, gen, 29.f, 1.f), std = Tensor::full({16}, 1.5f);
      nn::BatchReNormParams p;
      p.training = training, p.momentum = 0.1f, p.r_max = 3.f, p.d_max = 5.f, p.relu = true;
      const Tensor y = nn::relu(nn::batch_renorm(x, gamma, beta, mean, std, p));
      CHECK(stored_channels_last(y) == channels_last);
      nn::sum(nn::mul(y, normal(y.shape(), gen))).backward();
      return Run{y.to_vector<float>(),     x.grad().to_vector<float>(),
                 gamma.grad().to_vector<float>(), beta.grad().to_vector<float>(),
                 mean.to_vector<float>(),   std.to_vector<float>()};
    };
    const Run plain = run(false), last = run(true);
    CHECK(scaled_error(last.y, plain.y) < kRelTol);
    CHECK(scaled_error(last.dx, plain.dx) < kRelTol);
    CHECK(scaled_error(last.dgamma, plain.dgamma) < kRelTol);
    CHECK(scaled_error(last.dbeta, plain.dbeta) < kRelTol);
    CHECK(scaled_error(last.running_mean, plain.running_mean) < kRelTol);
    CHECK(scaled_error(last.running_std, plain.running_std) < kRelTol);
  }
}
