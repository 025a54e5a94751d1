#pragma once
// Parity with PyTorch: the fixtures written by tools/make_fixtures.py (tests/fixtures/
// *.safetensors; the script documents every tensor name) and how ours are compared with them,
// for the CPU (tests/nn/parity_pytorch_test.cpp) and the GPU (tests/cuda/).
//
// Closeness, for ours a and PyTorch's b over a tensor: max|a - b| <= tol * max|b| + 1e-6,
// i.e. relative to the reference's largest magnitude. tol: forward values 1e-4, gradients and
// parameters after an SGD step 1e-3, running statistics 1e-5 (all f32 against f32).
// Set AR1_PARITY_VERBOSE=1 to print each comparison's max|a - b| / max|b|.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/grad_mode.h"
#include "core/io/safetensors.h"
#include "nn/functional.h"
#include "nn/models/mobilenet_v1.h"
#include "nn/optim/sgd.h"

namespace ar1::testing {

inline constexpr double kForwardTol = 1e-4;
inline constexpr double kGradTol = 1e-3;
inline constexpr double kStatsTol = 1e-5;

inline SafetensorsFile fixture(const std::string& name) {
  return load_safetensors(std::string(AR1_TEST_FIXTURES) + "/" + name + ".safetensors");
}

inline double meta_num(const SafetensorsFile& f, const std::string& key) {
  const auto it = f.metadata().find(key);
  REQUIRE_MESSAGE(it != f.metadata().end(), "fixture metadata has no ", key);
  return std::stod(it->second);
}

// Checks ours against ref (see the file comment) and returns max|a - b| / max|b|.
inline double expect_close(const std::string& what, const Tensor& ours, const Tensor& ref,
                           double tol) {
  CAPTURE(what);
  REQUIRE(ours.defined());
  REQUIRE(ours.shape() == ref.shape());
  const auto a = ours.to(DType::f32).to_vector<float>();
  const auto b = ref.to(DType::f32).to_vector<float>();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - b[i]));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  const double rel = diff / std::max(scale, 1e-12);
  CHECK_MESSAGE(diff <= tol * scale + 1e-6, what, ": max|a-b| ", diff, ", max|ref| ", scale,
                ", relative ", rel, " > ", tol);
  if (std::getenv("AR1_PARITY_VERBOSE") != nullptr) {
    std::printf("parity %-48s rel %.3e (max|a-b| %.3e, max|ref| %.3e)\n", what.c_str(), rel,
                diff, scale);
  }
  return rel;
}

// Forward of `f` on the fixture's inputs (moved to `device`), then backward of g; compares out
// and grad.<input>.
template <class F>
void layer_case(const std::string& name, const std::vector<std::string>& inputs, F f,
                Device device = Device::cpu()) {
  const SafetensorsFile file = fixture(name);
  std::vector<Tensor> in;
  for (const auto& n : inputs) {
    Tensor t = file.at(n).to(device).clone();
    if (t.dtype() == DType::f32) t.set_requires_grad(true);
    in.push_back(t);
  }
  const Tensor out = f(in);
  expect_close(name + " out", out, file.at("out"), kForwardTol);
  out.backward(file.at("g").to(device));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (in[i].dtype() != DType::f32) continue;
    expect_close(name + " grad." + inputs[i], in[i].grad(), file.at("grad." + inputs[i]),
                 kGradTol);
  }
}

// The convolution fixtures (dense, dense stride 2, depthwise, depthwise stride 2, pointwise).
inline void conv_layer_cases(Device device) {
  for (const char* name : {"conv_dense", "conv_dense_s2", "conv_depthwise", "conv_depthwise_s2",
                           "conv_pointwise"}) {
    CAPTURE(name);
    const SafetensorsFile f = fixture(name);
    const nn::ConvParams p{static_cast<int64_t>(meta_num(f, "stride")),
                           static_cast<int64_t>(meta_num(f, "padding")),
                           static_cast<int64_t>(meta_num(f, "groups"))};
    layer_case(
        name, {"x", "w"}, [&](const std::vector<Tensor>& in) { return nn::conv2d(in[0], in[1], p); },
        device);
  }
}

// Linear (with and without bias), global pooling, ReLU and cross-entropy.
inline void other_layer_cases(Device device) {
  using In = const std::vector<Tensor>&;
  layer_case("linear", {"x", "w"}, [](In in) { return nn::linear(in[0], in[1]); }, device);
  layer_case(
      "linear_bias", {"x", "w", "b"}, [](In in) { return nn::linear(in[0], in[1], in[2]); },
      device);
  layer_case("avgpool_global", {"x"}, [](In in) { return nn::global_avg_pool2d(in[0]); }, device);
  layer_case("relu", {"x"}, [](In in) { return nn::relu(in[0]); }, device);
  layer_case(
      "cross_entropy", {"logits", "labels"}, [](In in) { return nn::cross_entropy(in[0], in[1]); },
      device);
}

// A MobileNetV1 with the fixture's configuration and weights.
inline std::unique_ptr<nn::MobileNetV1> mobilenet_from(const SafetensorsFile& f) {
  nn::MobileNetConfig cfg;
  cfg.alpha = meta_num(f, "alpha");
  cfg.num_classes = static_cast<int64_t>(meta_num(f, "num_classes"));
  cfg.latent_layer_num = static_cast<int64_t>(meta_num(f, "latent_layer_num"));
  cfg.input_size = f.at("x").size(2);
  cfg.bn.momentum = meta_num(f, "brn_momentum");
  cfg.bn.r_max = meta_num(f, "brn_r_max");
  cfg.bn.d_max = meta_num(f, "brn_d_max");
  cfg.bn.r_d_inc = meta_num(f, "brn_inc");
  cfg.bn.max_r_max = meta_num(f, "brn_max_r_max");
  cfg.bn.max_d_max = meta_num(f, "brn_max_d_max");
  cfg.bn.eps = meta_num(f, "brn_eps");
  Generator gen(0);
  auto net = std::make_unique<nn::MobileNetV1>(cfg, gen);
  nn::StateDict weights;
  const std::string prefix = "weights.";
  for (const auto& [name, t] : f.tensors()) {
    if (name.rfind(prefix, 0) == 0) weights.emplace_back(name.substr(prefix.size()), t);
  }
  net->load_state_dict(weights);  // strict: every name must match ours
  return net;
}

// The MobileNetV1 (alpha 0.25) fixture's training step on `device`: forward, loss, gradients,
// running statistics, then one SGD step.
inline void mobilenet_train_step_case(Device device) {
  const SafetensorsFile f = fixture("mobilenet_a025");
  auto net = mobilenet_from(f);
  net->to(device);
  net->train();
  const Tensor logits = net->forward(f.at("x").to(device));
  CHECK(logits.device() == device);
  expect_close("mobilenet logits", logits, f.at("logits"), kForwardTol);
  const Tensor loss = nn::cross_entropy(logits, f.at("y").to(device));
  expect_close("mobilenet loss", loss, f.at("loss"), kForwardTol);
  loss.backward();
  double worst_grad = 0;
  for (const auto& [name, p] : net->named_parameters()) {
    worst_grad = std::max(worst_grad,
                          expect_close("mobilenet grad." + name, p.grad(), f.at("grad." + name),
                                       kGradTol));
  }
  for (const auto& [name, b] : net->named_buffers()) {
    expect_close("mobilenet running_after." + name, b, f.at("running_after." + name), kStatsTol);
  }
  nn::SGD opt(net->named_parameters(),
              {meta_num(f, "sgd_lr"), meta_num(f, "sgd_momentum"),
               meta_num(f, "sgd_weight_decay")});
  opt.step();
  for (const auto& [name, p] : net->named_parameters()) {
    CHECK(p.device() == device);
    expect_close("mobilenet after_step." + name, p, f.at("after_step." + name), kGradTol);
  }
  MESSAGE("largest gradient relative error ", worst_grad);
}

// Its evaluation forward (BatchReNorm folded into the convolutions).
inline void mobilenet_eval_case(Device device) {
  const SafetensorsFile f = fixture("mobilenet_a025");
  auto net = mobilenet_from(f);
  net->to(device);
  net->eval();
  NoGradGuard ng;
  expect_close("mobilenet eval_logits", net->forward(f.at("x").to(device)), f.at("eval_logits"),
               kForwardTol);
}

// Its latent-replay step: replayed latents enter above the split.
inline void mobilenet_latent_replay_case(Device device) {
  const SafetensorsFile f = fixture("mobilenet_a025");
  auto net = mobilenet_from(f);
  net->to(device);
  net->train();
  const auto out = net->forward(f.at("x").to(device), f.at("latent.latent_input").to(device));
  expect_close("mobilenet latent.logits", out.logits, f.at("latent.logits"), kForwardTol);
  const Tensor loss = nn::cross_entropy(out.logits, f.at("latent.y").to(device));
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

}  // namespace ar1::testing
