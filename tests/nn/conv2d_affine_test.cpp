// nn::conv2d_affine and nn::conv2d_batch_renorm_eval (an evaluation-mode BatchReNorm folded
// into the convolution before it) against conv2d followed by batch_renorm in evaluation mode,
// for the kernel paths they take: dense, depthwise, a pointwise on few pixels (the sgemm path)
// and one on many; the folded gradients also against finite differences, with the ReLU through
// the portable set's fused backward too.
//
// Tolerance: 1e-5 of the largest reference magnitude (values), 1e-4 (gradients: the weight
// and gamma gradients are sums reassociated through the folded weights); finite differences
// with gradcheck.h's defaults.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/grad_mode.h"
#include "core/rng.h"
#include "nn/functional.h"
#include "nn/modules/batch_renorm2d.h"
#include "tests/support/cpu_kernel_sets.h"
#include "tests/support/gradcheck.h"

using namespace ar1;

namespace {

// max |a - b| / max |b|.
double scaled_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double err = 0, mag = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, static_cast<double>(std::fabs(a[i] - b[i])));
    mag = std::max(mag, static_cast<double>(std::fabs(b[i])));
  }
  return err / mag;
}

}  // namespace

TEST_CASE("conv2d_affine equals conv2d then batch_renorm in evaluation mode") {
  struct Case {
    int64_t c_in, c_out, k, stride, groups, hw;
  };
  for (const Case& c : {Case{3, 8, 3, 2, 1, 9}, Case{8, 8, 3, 1, 8, 7}, Case{8, 16, 1, 1, 1, 4},
                        Case{8, 16, 1, 1, 1, 48}}) {
    CAPTURE(c.c_in);
    CAPTURE(c.groups);
    CAPTURE(c.hw);
    for (const bool relu : {false, true}) {
      Generator gen(9);
      const Tensor x = normal({3, c.c_in, c.hw, c.hw}, gen);
      const Tensor w = normal({c.c_out, c.c_in / c.groups, c.k, c.k}, gen);
      nn::BatchReNormOptions o;
      o.fuse_relu = relu;
      nn::BatchReNorm2d bn(c.c_out, o);
      bn.eval();
      const Tensor stats[] = {normal({c.c_out}, gen), normal({c.c_out}, gen, 1.f, 0.1f),
                              normal({c.c_out}, gen), normal({c.c_out}, gen, 2.f, 0.2f)};
      for (auto [dst, src] : {std::pair{bn.gamma(), stats[0]}, std::pair{bn.beta(), stats[1]},
                              std::pair{bn.running_mean(), stats[2]},
                              std::pair{bn.running_std(), stats[3]}}) {
        std::copy_n(src.data<float>(), c.c_out, Tensor(dst).data<float>());
      }
      const nn::ConvParams p{c.stride, c.k / 2, c.groups};
      NoGradGuard no_grad;
      const std::vector<float> want = bn.forward(nn::conv2d(x, w, p)).to_vector<float>();
      const auto [scale, shift] = nn::batch_renorm_eval_affine(bn.gamma(), bn.beta(),
                                                               bn.running_mean(),
                                                               bn.running_std());
      const std::vector<float> got =
          nn::conv2d_affine(x, w, scale, shift, p, relu).to_vector<float>();
      CHECK(scaled_error(got, want) < 1e-5);
    }
  }
}

TEST_CASE("conv2d_affine refuses to run where a gradient would be recorded") {
  Generator gen(1);
  const Tensor x = normal({1, 2, 3, 3}, gen);
  Tensor w = normal({2, 2, 1, 1}, gen).set_requires_grad(true);
  CHECK_THROWS_WITH(nn::conv2d_affine(x, w, Tensor::ones({2}), Tensor::zeros({2}), {}, true),
                    doctest::Contains("NoGradGuard"));
}

TEST_CASE("conv2d_batch_renorm_eval gives the separate ops' values and gradients") {
  for (const bool relu : {false, true}) {
    for (const int64_t groups : {1, 8}) {
      CAPTURE(relu);
      CAPTURE(groups);
      struct Result {
        std::vector<float> y, dx, dw, dgamma, dbeta;
      };
      auto run = [&](bool folded) {
        Generator gen(21);
        Tensor x = normal({3, 8, 6, 6}, gen).set_requires_grad(true);
        Tensor w = normal({8, 8 / groups, 3, 3}, gen).set_requires_grad(true);
        Tensor gamma = normal({8}, gen, 1.f, 0.3f).set_requires_grad(true);
        Tensor beta = normal({8}, gen, 0.f, 0.3f).set_requires_grad(true);
        const Tensor mean = normal({8}, gen, 2.f, 1.f), std = normal({8}, gen, 3.f, 0.3f);
        const nn::ConvParams p{1, 1, groups};
        nn::BatchReNormParams bp;
        bp.training = false, bp.relu = relu;
        const Tensor y =
            folded ? nn::conv2d_batch_renorm_eval(x, w, gamma, beta, mean, std, p, relu)
                   : nn::batch_renorm(nn::conv2d(x, w, p), gamma, beta, mean, std, bp);
        nn::sum(nn::mul(y, normal(y.shape(), gen))).backward();
        return Result{y.to_vector<float>(), x.grad().to_vector<float>(),
                      w.grad().to_vector<float>(), gamma.grad().to_vector<float>(),
                      beta.grad().to_vector<float>()};
      };
      const Result a = run(true), b = run(false);
      CHECK(scaled_error(a.y, b.y) < 1e-5);
      CHECK(scaled_error(a.dx, b.dx) < 1e-4);
      CHECK(scaled_error(a.dw, b.dw) < 1e-4);
      CHECK(scaled_error(a.dgamma, b.dgamma) < 1e-4);
      CHECK(scaled_error(a.dbeta, b.dbeta) < 1e-4);
    }
  }
}

TEST_CASE("conv2d_batch_renorm_eval gradients match finite differences") {
  Generator gen(22);
  const Tensor mean = normal({4}, gen, 0.5f, 0.5f), std = normal({4}, gen, 2.f, 0.2f);
  ar1::testing::check_gradients(
      [&](const std::vector<Tensor>& in) {
        return nn::conv2d_batch_renorm_eval(in[0], in[1], in[2], in[3], mean, std, {2, 1, 1},
                                            false);
      },
      {normal({2, 3, 5, 5}, gen), normal({4, 3, 3, 3}, gen), normal({4}, gen, 1.f, 0.3f),
       normal({4}, gen)});
}

TEST_CASE("conv2d_batch_renorm_eval with ReLU: the portable fused backward vs finite differences") {
  // The portable set's conv2d_relu_backward (pointwise on more than 2048 pixel rows, depthwise
  // 3 x 3). Channels alternate between outputs far above and far below the ReLU's kink (beta
  // +-6 against |conv w s| of a few units), so the mask matters and finite differences never
  // cross it.
  const ar1::testing::ScopedCpuKernels portable(kernels::CpuKernels::portable);
  struct Case {
    Shape x, w;
    nn::ConvParams p;
  };
  for (const Case& c : {Case{{3, 4, 30, 30}, {6, 4, 1, 1}, {1, 0, 1}},
                        Case{{2, 6, 9, 9}, {6, 1, 3, 3}, {2, 1, 6}},
                        Case{{2, 6, 7, 7}, {6, 1, 3, 3}, {1, 1, 6}}}) {
    CAPTURE(c.p.groups);
    Generator gen(23);
    const int64_t co = c.w[0];
    const Tensor mean = Tensor::zeros({co}), std = Tensor::full({co}, 1.f);
    std::vector<float> beta(co);
    for (int64_t o = 0; o < co; ++o) beta[o] = o % 2 == 0 ? 6.f : -6.f;
    ar1::testing::check_gradients(
        [&](const std::vector<Tensor>& in) {
          return nn::conv2d_batch_renorm_eval(in[0], in[1], in[2], in[3], mean, std, c.p, true);
        },
        {normal(c.x, gen), normal(c.w, gen, 0.f, 0.5f), normal({co}, gen, 0.5f, 0.1f),
         Tensor::from_vector(beta, {co})});
  }
}
