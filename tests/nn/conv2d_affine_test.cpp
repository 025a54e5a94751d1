// nn::conv2d_affine (an evaluation-mode BatchReNorm folded into the convolution before it)
// against conv2d followed by batch_renorm in evaluation mode, for the kernel paths it takes:
// dense, depthwise, a pointwise on few pixels (the sgemm path) and one on many.
//
// Tolerance: 1e-5 of the largest reference magnitude; folding the scale into the weights only
// moves where one rounding happens.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/grad_mode.h"
#include "core/rng.h"
#include "nn/functional.h"
#include "nn/modules/batch_renorm2d.h"

using namespace ar1;

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
      const auto [scale, shift] = bn.eval_affine();
      const std::vector<float> got =
          nn::conv2d_affine(x, w, scale, shift, p, relu).to_vector<float>();
      double err = 0, mag = 1e-30;
      for (size_t i = 0; i < want.size(); ++i) {
        err = std::max(err, static_cast<double>(std::fabs(got[i] - want[i])));
        mag = std::max(mag, static_cast<double>(std::fabs(want[i])));
      }
      CHECK(err / mag < 1e-5);
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
