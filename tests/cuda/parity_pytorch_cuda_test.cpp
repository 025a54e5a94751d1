// The PyTorch fixtures of tests/nn/parity_pytorch_test.cpp on the GPU, at the CPU's tolerances
// (tests/support/pytorch_parity.h): every layer, and a whole MobileNetV1 (alpha 0.25) training
// step (forward, loss, gradients, running statistics, the SGD step), its evaluation forward
// (BatchReNorm folded into the convolutions) and its latent-replay step.
#include <doctest/doctest.h>

#include "core/grad_mode.h"
#include "nn/optim/sgd.h"
#include "tests/cuda/op_harness.h"
#include "tests/support/pytorch_parity.h"

using namespace ar1;
using namespace ar1::testing;

TEST_CASE("parity conv2d dense, strided, depthwise and pointwise on the gpu") {
  require_gpu();
  for (const char* name : {"conv_dense", "conv_dense_s2", "conv_depthwise", "conv_depthwise_s2",
                           "conv_pointwise"}) {
    CAPTURE(name);
    const SafetensorsFile f = fixture(name);
    const nn::ConvParams p{static_cast<int64_t>(meta_num(f, "stride")),
                           static_cast<int64_t>(meta_num(f, "padding")),
                           static_cast<int64_t>(meta_num(f, "groups"))};
    layer_case(
        name, {"x", "w"}, [&](const std::vector<Tensor>& in) { return nn::conv2d(in[0], in[1], p); },
        kGpu);
  }
}

TEST_CASE("parity linear, pooling, relu and cross entropy on the gpu") {
  require_gpu();
  layer_case(
      "linear", {"x", "w"}, [](const std::vector<Tensor>& in) { return nn::linear(in[0], in[1]); },
      kGpu);
  layer_case(
      "linear_bias", {"x", "w", "b"},
      [](const std::vector<Tensor>& in) { return nn::linear(in[0], in[1], in[2]); }, kGpu);
  layer_case(
      "avgpool_global", {"x"},
      [](const std::vector<Tensor>& in) { return nn::global_avg_pool2d(in[0]); }, kGpu);
  layer_case(
      "relu", {"x"}, [](const std::vector<Tensor>& in) { return nn::relu(in[0]); }, kGpu);
  layer_case(
      "cross_entropy", {"logits", "labels"},
      [](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], in[1]); }, kGpu);
}

TEST_CASE("parity mobilenet a025 train step on the gpu") {
  require_gpu();
  const SafetensorsFile f = fixture("mobilenet_a025");
  auto net = mobilenet_from(f);
  net->to(kGpu);
  net->train();
  const Tensor logits = net->forward(f.at("x").to(kGpu));
  CHECK(logits.device() == kGpu);
  expect_close("mobilenet logits", logits, f.at("logits"), kForwardTol);
  const Tensor loss = nn::cross_entropy(logits, f.at("y").to(kGpu));
  expect_close("mobilenet loss", loss, f.at("loss"), kForwardTol);
  loss.backward();
  for (const auto& [name, p] : net->named_parameters()) {
    expect_close("mobilenet grad." + name, p.grad(), f.at("grad." + name), kGradTol);
  }
  for (const auto& [name, b] : net->named_buffers()) {
    expect_close("mobilenet running_after." + name, b, f.at("running_after." + name), kStatsTol);
  }
  nn::SGD opt(net->named_parameters(),
              {meta_num(f, "sgd_lr"), meta_num(f, "sgd_momentum"),
               meta_num(f, "sgd_weight_decay")});
  opt.step();
  for (const auto& [name, p] : net->named_parameters()) {
    CHECK(p.device() == kGpu);
    expect_close("mobilenet after_step." + name, p, f.at("after_step." + name), kGradTol);
  }
}

TEST_CASE("parity mobilenet a025 eval forward on the gpu") {
  require_gpu();
  const SafetensorsFile f = fixture("mobilenet_a025");
  auto net = mobilenet_from(f);
  net->to(kGpu);
  net->eval();
  NoGradGuard ng;
  expect_close("mobilenet eval_logits", net->forward(f.at("x").to(kGpu)), f.at("eval_logits"),
               kForwardTol);
}

TEST_CASE("parity mobilenet a025 latent replay forward/backward on the gpu") {
  require_gpu();
  const SafetensorsFile f = fixture("mobilenet_a025");
  auto net = mobilenet_from(f);
  net->to(kGpu);
  net->train();
  const auto out = net->forward(f.at("x").to(kGpu), f.at("latent.latent_input").to(kGpu));
  expect_close("mobilenet latent.logits", out.logits, f.at("latent.logits"), kForwardTol);
  const Tensor loss = nn::cross_entropy(out.logits, f.at("latent.y").to(kGpu));
  expect_close("mobilenet latent.loss", loss, f.at("latent.loss"), kForwardTol);
  loss.backward();
  for (const auto& [name, p] : net->named_parameters()) {
    expect_close("mobilenet latent.grad." + name, p.grad(), f.at("latent.grad." + name),
                 kGradTol);
  }
  for (const auto& [name, b] : net->named_buffers()) {
    expect_close("mobilenet latent.running_after." + name, b,
                 f.at("latent.running_after." + name), kStatsTol);
  }
}
