// nn::Module: naming, modes, state_dict / load_state_dict, freezing; Sequential slicing.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "nn/modules/all.h"
#include "tests/support/gradcheck.h"

using namespace ar1;

namespace {

std::vector<std::string> names_of(const nn::StateDict& s) {
  std::vector<std::string> out;
  for (const auto& [n, t] : s) out.push_back(n);
  return out;
}

// conv -> bn (fused relu) -> pool -> flatten -> [linear]
std::shared_ptr<nn::Sequential> small_net(Generator& gen) {
  auto net = std::make_shared<nn::Sequential>();
  net->push_back(std::make_shared<nn::Conv2d>(nn::Conv2dOptions{3, 4, 3, 1, 1, 1}, gen));
  nn::BatchReNormOptions o;
  o.fuse_relu = true;
  net->push_back(std::make_shared<nn::BatchReNorm2d>(4, o));
  net->push_back(std::make_shared<nn::GlobalAvgPool2d>());
  net->push_back(std::make_shared<nn::Flatten>());
  auto head = std::make_shared<nn::Sequential>();
  head->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{4, 2, true}, gen));
  net->push_back(head);
  return net;
}

}  // namespace

TEST_CASE("modules name parameters and buffers with dotted paths in registration order") {
  Generator gen(1);
  auto net = small_net(gen);
  CHECK(names_of(net->named_parameters()) ==
        std::vector<std::string>{"0.weight", "1.gamma", "1.beta", "4.0.weight", "4.0.bias"});
  CHECK(names_of(net->named_buffers()) ==
        std::vector<std::string>{"1.running_mean", "1.running_std"});
  CHECK(names_of(net->state_dict()) ==
        std::vector<std::string>{"0.weight", "1.gamma", "1.beta", "1.running_mean",
                                 "1.running_std", "4.0.weight", "4.0.bias"});
  CHECK(names_of(net->named_parameters("model")).front() == "model.0.weight");
  CHECK(net->parameters().size() == 5);
  for (const Tensor& p : net->parameters()) CHECK(p.requires_grad());
  for (const auto& [n, b] : net->named_buffers()) CHECK(!b.requires_grad());
  // The handles are the module's own tensors.
  auto conv = net->at<nn::Conv2d>(0);
  CHECK(net->named_parameters()[0].second.same_impl(conv->weight()));
  CHECK(&net->module("4.0") == (*net->at<nn::Sequential>(4))[0].get());
  CHECK_THROWS_WITH_AS(net->module("4.7"), doctest::Contains("has no child '7'; children: 0"),
                       ar1::Error);
  const auto mods = net->named_modules();
  REQUIRE(mods.size() == 7);
  CHECK(mods[0].first == "");
  CHECK(mods[6].first == "4.0");
}

TEST_CASE("modules switch train and eval recursively and per subtree") {
  Generator gen(2);
  auto net = small_net(gen);
  CHECK(net->is_training());
  net->eval();
  for (auto& [n, m] : net->named_modules()) CHECK_FALSE(m->is_training());
  net->at<nn::Sequential>(4)->train();
  CHECK_FALSE(net->is_training());
  CHECK((*net)[1]->is_training() == false);
  CHECK(net->module("4.0").is_training());
  // The BatchReNorm layer updates running statistics only in training mode.
  Tensor x = normal({2, 3, 4, 4}, gen);
  auto bn = net->at<nn::BatchReNorm2d>(1);
  net->forward(x);
  CHECK(bn->running_mean().to_vector<float>() == std::vector<float>(4, 0.f));
  net->train();
  net->forward(x);
  CHECK(bn->running_mean().to_vector<float>() != std::vector<float>(4, 0.f));
}

TEST_CASE("load_state_dict copies in place and round-trips state_dict") {
  Generator gen(3);
  auto a = small_net(gen);
  auto b = small_net(gen);
  const Tensor b_weight = b->state_dict()[0].second;
  nn::StateDict sd;
  for (const auto& [n, t] : a->state_dict()) sd.emplace_back(n, t.clone().detach());
  sd[3].second.data<float>()[0] = 0.25f;  // a running mean value
  b->load_state_dict(sd);
  const auto bs = b->state_dict();
  for (size_t i = 0; i < sd.size(); ++i) {
    CAPTURE(sd[i].first);
    CHECK(bs[i].second.to_vector<float>() == sd[i].second.to_vector<float>());
  }
  CHECK(b_weight.same_impl(bs[0].second));  // same tensor, new values
  CHECK(b_weight.requires_grad());
  // A std::map works too.
  std::map<std::string, Tensor> m(sd.begin(), sd.end());
  b->load_state_dict(m);
}

TEST_CASE("strict load_state_dict lists every missing, unexpected and mis-shaped name at once") {
  Generator gen(4);
  auto net = small_net(gen);
  nn::StateDict sd = net->state_dict();
  const auto before = net->state_dict()[0].second.to_vector<float>();
  sd.erase(sd.begin() + 1);                                   // 1.gamma missing
  sd.erase(sd.begin() + 3);                                   // 1.running_std missing
  sd.emplace_back("4.0.extra", Tensor::zeros({2}));           // unexpected
  sd.emplace_back("5.weight", Tensor::zeros({1}));            // unexpected
  sd[0].second = Tensor::zeros({4, 3, 1, 1});                 // 0.weight mis-shaped
  for (auto& [n, t] : sd)
    if (n == "4.0.bias") t = Tensor::zeros({3});              // mis-shaped
  try {
    net->load_state_dict(sd);
    FAIL("expected an error");
  } catch (const ar1::Error& e) {
    const std::string msg = e.what();
    CAPTURE(msg);
    CHECK(msg.find("[load_state_dict]") == 0);
    for (const char* name : {"missing (2): 1.gamma, 1.running_std",
                             "unexpected (2): 4.0.extra, 5.weight", "0.weight (expected [4, 3, 3, 3], got [4, 3, 1, 1])",
                             "4.0.bias (expected [2], got [3])"}) {
      CHECK_MESSAGE(msg.find(name) != std::string::npos, name);
    }
  }
  // Nothing was copied.
  CHECK(net->state_dict()[0].second.to_vector<float>() == before);

  // Non-strict ignores missing and unexpected names but still refuses wrong shapes.
  CHECK_THROWS_WITH_AS(net->load_state_dict(sd, false), doctest::Contains("mis-shaped (2)"),
                       ar1::Error);
  nn::StateDict partial{{"1.beta", Tensor::full({4}, 0.5f)}, {"other", Tensor::zeros({1})}};
  net->load_state_dict(partial, false);
  CHECK(net->at<nn::BatchReNorm2d>(1)->beta().to_vector<float>() == std::vector<float>(4, 0.5f));
  CHECK_THROWS_WITH_AS(net->load_state_dict(partial, true),
                       doctest::Contains("missing (6)"), ar1::Error);
}

TEST_CASE("frozen parameters get no gradient and zero_grad drops gradients") {
  Generator gen(5);
  auto net = small_net(gen);
  (*net)[0]->set_requires_grad(false);  // freeze the conv
  const Tensor x = normal({2, 3, 4, 4}, gen);
  const Tensor labels = Tensor::from_i64({0, 1}, {2});
  nn::CrossEntropyLoss ce;
  ce(net->forward(x), labels).backward();
  for (const auto& [n, p] : net->named_parameters()) {
    const std::string param = n;  // clang 14 cannot capture a binding in CAPTURE
    CAPTURE(param);
    CHECK(p.grad().defined() == (n != "0.weight"));
  }
  net->zero_grad();
  for (const Tensor& p : net->parameters()) CHECK_FALSE(p.grad().defined());
  (*net)[0]->set_requires_grad(true);
  CHECK(net->parameters()[0].requires_grad());
}

TEST_CASE("Sequential indexes, slices and splits while sharing the modules") {
  Generator gen(6);
  auto net = small_net(gen);
  CHECK(net->size() == 5);
  CHECK((*net)[-1]->type_name() == "Sequential");
  CHECK_THROWS_WITH_AS((*net)[5], doctest::Contains("[Sequential] index 5 out of range"),
                       ar1::Error);
  CHECK_THROWS_AS(net->at<nn::Linear>(0), ar1::Error);
  auto [lower, upper] = nn::split_sequential(*net, 2);
  CHECK(lower->size() == 2);
  CHECK(upper->size() == 3);
  CHECK(upper->at<nn::GlobalAvgPool2d>(0).get() == (*net)[2].get());
  CHECK(names_of(upper->named_parameters()) ==
        std::vector<std::string>{"2.0.weight", "2.0.bias"});
  const Tensor x = normal({2, 3, 4, 4}, gen);
  net->eval();
  lower->eval();
  upper->eval();
  CHECK(ar1::testing::max_abs_diff(net->forward(x), upper->forward(lower->forward(x))) == 0.0);
  auto [none, all] = nn::split_sequential(*net, 0);
  CHECK(none->empty());
  CHECK(all->size() == 5);
  CHECK_THROWS_AS(nn::split_sequential(*net, 6), ar1::Error);
}
