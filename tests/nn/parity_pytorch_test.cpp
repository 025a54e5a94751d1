// Parity with PyTorch: every layer, BatchReNorm2d and a whole MobileNetV1 (alpha 0.25) step
// against the fixtures written by tools/make_fixtures.py (tests/fixtures/*.safetensors; the
// script documents every tensor name).
//
// Closeness and tolerances: tests/support/pytorch_parity.h. tests/cuda/ runs the same
// fixtures on a GPU.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/grad_mode.h"
#include "kernels/batch_renorm.h"
#include "nn/optim/sgd.h"
#include "tests/support/pytorch_parity.h"

using namespace ar1;
using namespace ar1::testing;

TEST_CASE("parity conv2d dense, strided, depthwise and pointwise forward/backward") {
  conv_layer_cases(Device::cpu());
}

TEST_CASE("parity linear, pooling, relu and cross entropy forward/backward") {
  other_layer_cases(Device::cpu());
}

TEST_CASE("parity batchrenorm train forward/backward, statistics, schedule and eval") {
  const SafetensorsFile f = fixture("batchrenorm");
  const Tensor& x = f.at("x");
  const int64_t c = x.size(1);
  nn::BatchReNormOptions o;
  o.momentum = meta_num(f, "momentum");
  o.r_max = meta_num(f, "r_max");
  o.d_max = meta_num(f, "d_max");
  o.r_d_inc = meta_num(f, "inc");
  o.max_r_max = meta_num(f, "max_r_max");
  o.max_d_max = meta_num(f, "max_d_max");
  o.eps = meta_num(f, "eps");
  nn::BatchReNorm2d bn(c, o);
  bn.load_state_dict({{"gamma", f.at("gamma")}, {"beta", f.at("beta")},
                      {"running_mean", f.at("running_mean")},
                      {"running_std", f.at("running_std")}});

  // The kernel's saved r, d and batch statistics, on copies of the running statistics.
  {
    kernels::BatchReNormDesc d;
    d.n = x.size(0), d.c = c, d.hw = x.size(2) * x.size(3);
    d.eps = static_cast<float>(o.eps), d.r_max = static_cast<float>(o.r_max);
    d.d_max = static_cast<float>(o.d_max), d.momentum = 0.f;
    Tensor y = Tensor::empty(x.shape()), mean = Tensor::empty({c}), sd = Tensor::empty({c}),
           is = Tensor::empty({c}), r = Tensor::empty({c}), dd = Tensor::empty({c});
    Tensor rm = f.at("running_mean").clone(), rs = f.at("running_std").clone();
    kernels::cpu::batch_renorm_train_forward(
        y.data<float>(), {mean.data<float>(), sd.data<float>(), is.data<float>(),
                          r.data<float>(), dd.data<float>()},
        rm.data<float>(), rs.data<float>(), x.data<float>(), f.at("gamma").data<float>(),
        f.at("beta").data<float>(), d);
    expect_close("batchrenorm r", r, f.at("r"), kForwardTol);
    expect_close("batchrenorm d", dd, f.at("d"), kForwardTol);
    expect_close("batchrenorm batch_mean", mean, f.at("batch_mean"), kForwardTol);
    expect_close("batchrenorm batch_std", sd, f.at("batch_std"), kForwardTol);
  }

  bn.train();
  Tensor xv = x.clone().set_requires_grad(true);
  const Tensor y = bn.forward(xv);
  expect_close("batchrenorm y", y, f.at("y"), kForwardTol);
  y.backward(f.at("g"));
  expect_close("batchrenorm grad.x", xv.grad(), f.at("grad.x"), kGradTol);
  expect_close("batchrenorm grad.gamma", bn.gamma().grad(), f.at("grad.gamma"), kGradTol);
  expect_close("batchrenorm grad.beta", bn.beta().grad(), f.at("grad.beta"), kGradTol);
  expect_close("batchrenorm running_mean_after", bn.running_mean(), f.at("running_mean_after"),
               kStatsTol);
  expect_close("batchrenorm running_std_after", bn.running_std(), f.at("running_std_after"),
               kStatsTol);
  CHECK(bn.r_max() == doctest::Approx(meta_num(f, "r_max_after")).epsilon(1e-6));
  CHECK(bn.d_max() == doctest::Approx(meta_num(f, "d_max_after")).epsilon(1e-6));

  bn.eval();
  NoGradGuard ng;
  expect_close("batchrenorm y_eval", bn.forward(x), f.at("y_eval"), kForwardTol);
}


TEST_CASE("parity mobilenet a025 train forward/backward, running statistics and SGD step") {
  mobilenet_train_step_case(Device::cpu());
}

TEST_CASE("parity mobilenet a025 eval forward") { mobilenet_eval_case(Device::cpu()); }

TEST_CASE("parity mobilenet a025 latent replay forward/backward") {
  mobilenet_latent_replay_case(Device::cpu());
}
