// Parity with PyTorch: every layer, BatchReNorm2d and a whole MobileNetV1 (alpha 0.25) step
// against the fixtures written by tools/make_fixtures.py (tests/fixtures/*.safetensors; the
// script documents every tensor name).
//
// Closeness, for ours a and PyTorch's b over a tensor: max|a - b| <= tol * max|b| + 1e-6,
// i.e. relative to the reference's largest magnitude. tol: forward values 1e-4, gradients and
// parameters after an SGD step 1e-3, running statistics 1e-5 (all f32 against f32).
// Set AR1_PARITY_VERBOSE=1 to print each comparison's max|a - b| / max|b|.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/grad_mode.h"
#include "core/io/safetensors.h"
#include "kernels/batch_renorm.h"
#include "nn/models/mobilenet_v1.h"
#include "nn/optim/sgd.h"

using namespace ar1;

namespace {

constexpr double kForwardTol = 1e-4;
constexpr double kGradTol = 1e-3;
constexpr double kStatsTol = 1e-5;

SafetensorsFile fixture(const std::string& name) {
  return load_safetensors(std::string(AR1_TEST_FIXTURES) + "/" + name + ".safetensors");
}

double meta_num(const SafetensorsFile& f, const std::string& key) {
  const auto it = f.metadata().find(key);
  REQUIRE_MESSAGE(it != f.metadata().end(), "fixture metadata has no ", key);
  return std::stod(it->second);
}

// Checks ours against ref (see the file comment) and returns max|a - b| / max|b|.
double expect_close(const std::string& what, const Tensor& ours, const Tensor& ref, double tol) {
  CAPTURE(what);
  REQUIRE(ours.defined());
  REQUIRE(ours.shape() == ref.shape());
  const auto a = ours.to_vector<float>();
  const auto b = ref.to_vector<float>();
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

// Forward of `f` on the fixture's inputs, then backward of g; compares out and grad.<input>.
template <class F>
void layer_case(const std::string& name, const std::vector<std::string>& inputs, F f) {
  const SafetensorsFile file = fixture(name);
  std::vector<Tensor> in;
  for (const auto& n : inputs) {
    Tensor t = file.at(n).clone();
    if (t.dtype() == DType::f32) t.set_requires_grad(true);
    in.push_back(t);
  }
  const Tensor out = f(in);
  expect_close(name + " out", out, file.at("out"), kForwardTol);
  out.backward(file.at("g"));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (in[i].dtype() != DType::f32) continue;
    expect_close(name + " grad." + inputs[i], in[i].grad(), file.at("grad." + inputs[i]),
                 kGradTol);
  }
}

}  // namespace

TEST_CASE("parity conv2d dense, strided, depthwise and pointwise forward/backward") {
  for (const char* name : {"conv_dense", "conv_dense_s2", "conv_depthwise", "conv_depthwise_s2",
                           "conv_pointwise"}) {
    CAPTURE(name);
    const SafetensorsFile f = fixture(name);
    const nn::ConvParams p{static_cast<int64_t>(meta_num(f, "stride")),
                           static_cast<int64_t>(meta_num(f, "padding")),
                           static_cast<int64_t>(meta_num(f, "groups"))};
    layer_case(name, {"x", "w"},
               [&](const std::vector<Tensor>& in) { return nn::conv2d(in[0], in[1], p); });
  }
}

TEST_CASE("parity linear, pooling, relu and cross entropy forward/backward") {
  layer_case("linear", {"x", "w"},
             [](const std::vector<Tensor>& in) { return nn::linear(in[0], in[1]); });
  layer_case("linear_bias", {"x", "w", "b"},
             [](const std::vector<Tensor>& in) { return nn::linear(in[0], in[1], in[2]); });
  layer_case("avgpool_global", {"x"},
             [](const std::vector<Tensor>& in) { return nn::global_avg_pool2d(in[0]); });
  layer_case("relu", {"x"}, [](const std::vector<Tensor>& in) { return nn::relu(in[0]); });
  layer_case("cross_entropy", {"logits", "labels"},
             [](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], in[1]); });
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

namespace {

std::unique_ptr<nn::MobileNetV1> mobilenet_from(const SafetensorsFile& f) {
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

}  // namespace

TEST_CASE("parity mobilenet a025 train forward/backward, running statistics and SGD step") {
  const SafetensorsFile f = fixture("mobilenet_a025");
  auto net = mobilenet_from(f);
  net->train();
  const Tensor logits = net->forward(f.at("x"));
  expect_close("mobilenet logits", logits, f.at("logits"), kForwardTol);
  const Tensor loss = nn::cross_entropy(logits, f.at("y"));
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
    expect_close("mobilenet after_step." + name, p, f.at("after_step." + name), kGradTol);
  }
  MESSAGE("largest gradient relative error ", worst_grad);
}

TEST_CASE("parity mobilenet a025 eval forward") {
  const SafetensorsFile f = fixture("mobilenet_a025");
  auto net = mobilenet_from(f);
  net->eval();
  NoGradGuard ng;
  expect_close("mobilenet eval_logits", net->forward(f.at("x")), f.at("eval_logits"),
               kForwardTol);
}

TEST_CASE("parity mobilenet a025 latent replay forward/backward") {
  const SafetensorsFile f = fixture("mobilenet_a025");
  auto net = mobilenet_from(f);
  net->train();
  const auto out = net->forward(f.at("x"), f.at("latent.latent_input"));
  expect_close("mobilenet latent.logits", out.logits, f.at("latent.logits"), kForwardTol);
  const Tensor loss = nn::cross_entropy(out.logits, f.at("latent.y"));
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
