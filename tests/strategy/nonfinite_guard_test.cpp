// strategy/nonfinite_guard.h on a model whose every step is visible: images [N, 1, 1, 3]
// through BatchReNorm2d(1) in training mode, Flatten and Linear(3, 3). A test plugin puts a NaN
// into the linear layer's gradient after the backward of one chosen iteration.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "nn/modules/all.h"
#include "strategy/naive.h"
#include "strategy/metrics/evaluation_plugin.h"
#include "strategy/nonfinite_guard.h"
#include "tests/strategy/one_hot_fixture.h"

using namespace ar1;
using namespace ar1::strategy;
using namespace ar1::testing;

namespace {

struct NanAt : Plugin {
  int64_t at = 1;
  void after_backward(SupervisedTemplate& s) override {
    if (s.clock().train_iterations != at) return;
    Tensor g = s.model().named_parameters().back().second.grad();
    g.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  }
};

// The weights and the normalisation statistics after every iteration.
struct Snapshots : Plugin {
  std::vector<std::vector<float>> weight, mean;
  void after_training_iteration(SupervisedTemplate& s) override {
    const auto params = s.model().named_parameters();
    weight.push_back(params.back().second.to_vector<float>());
    mean.push_back(s.model().named_buffers().front().second.to_vector<float>());
  }
};

struct Run {
  std::shared_ptr<NonFiniteGuard> guard;
  std::shared_ptr<Snapshots> snapshots = std::make_shared<Snapshots>();
  std::unique_ptr<Naive> strategy;
};

Run make_run(NonFinitePolicy policy) {
  Generator gen(0);
  auto model = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::BatchReNorm2d>(1), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(nn::LinearOptions{kClasses, kClasses, false}, gen)});
  TemplateOptions o = tiny_options(2, 1, -1);
  o.sgd.lr = 0.1;
  o.train_pipeline = o.eval_pipeline = data::Pipeline{data::scale_to_unit()};
  Run r;
  r.guard = std::make_shared<NonFiniteGuard>(policy);
  auto nan = std::make_shared<NanAt>();
  r.strategy = std::make_unique<Naive>(
      model, o, std::vector<std::shared_ptr<Plugin>>{nan, r.guard, r.snapshots});
  return r;
}

data::Experience experience() {
  std::vector<Sample> samples;
  for (int64_t i = 0; i < 8; ++i) samples.push_back({i % kClasses, (i + 1) % kClasses});
  return data::make_experience(0, one_hot_images(samples), range(0, 8));
}

}  // namespace

TEST_CASE("nonfinite guard stops training naming the experience, epoch, iteration and tensor") {
  Run r = make_run(NonFinitePolicy::stop);
  const data::Experience exp = experience();
  CHECK_THROWS_WITH_AS(r.strategy->train(exp),
                       doctest::Contains("a NaN or infinity in gradient of 2.weight at "
                                         "experience 0, epoch 0, iteration 1"),
                       NonFiniteError);
}

TEST_CASE("nonfinite guard skip drops the minibatch: no update, statistics put back, counted") {
  Run r = make_run(NonFinitePolicy::skip);
  const data::Experience exp = experience();
  r.strategy->train(exp);
  const Snapshots& s = *r.snapshots;
  REQUIRE(s.weight.size() == 4);  // 8 images, minibatches of 2
  CHECK(s.weight[1] == s.weight[0]);  // iteration 1 skipped: the weights did not move
  CHECK(s.mean[1] == s.mean[0]);      // nor did the BatchReNorm running mean
  CHECK(s.weight[2] != s.weight[1]);  // the next iteration trains again
  CHECK(s.mean[2] != s.mean[1]);
  for (const auto& w : s.weight) {
    for (float v : w) CHECK(std::isfinite(v));
  }
  CHECK(r.guard->skipped_in_experience() == 1);
  const MetricValue* counted = r.strategy->evaluator()->last(
      metric_name("NonFiniteSkipped_Exp", false, "train_stream", 0));
  REQUIRE(counted != nullptr);
  CHECK(counted->value == 1.0);
}

TEST_CASE("nonfinite guard parses its policies and tells a finite tensor from one that is not") {
  CHECK(parse_nonfinite_policy("stop") == NonFinitePolicy::stop);
  CHECK(parse_nonfinite_policy("skip") == NonFinitePolicy::skip);
  CHECK_THROWS_WITH_AS(parse_nonfinite_policy("ignore"), doctest::Contains("use stop or skip"),
                       Error);
  Tensor t = Tensor::full({5}, 2.f);
  CHECK(all_finite(t));
  t.data<float>()[3] = std::numeric_limits<float>::infinity();
  CHECK_FALSE(all_finite(t));
  t.data<float>()[3] = -std::numeric_limits<float>::quiet_NaN();
  CHECK_FALSE(all_finite(t));
  CHECK(all_finite(Tensor()));
}
