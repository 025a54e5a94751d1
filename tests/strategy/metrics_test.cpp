// The standard metrics on a model whose outputs are known: images are one pixel row with 255
// at one position ("shown") and 0 elsewhere, and the model is Flatten -> Linear(3, 3) with a
// weight we set by hand and a learning rate of 0, so nothing moves while "training".
//   weight = identity: logits are one-hot at `shown`; a row is right iff shown == label and
//                      its cross-entropy is log(e + 2) - 1 (right) or log(e + 2) (wrong).
//   weight = zero:     every logit is 0, the prediction is class 0 (first maximum), the loss
//                      of every row is log(3).
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>

#include "data/scenario.h"
#include "nn/modules/all.h"
#include "strategy/metrics/evaluation_plugin.h"
#include "strategy/metrics/standard_metrics.h"
#include "strategy/naive.h"
#include "tests/strategy/one_hot_fixture.h"

using namespace ar1;
using namespace ar1::strategy;
using namespace ar1::testing;

namespace {

const double kLossRight = std::log(std::exp(1.0) + 2.0) - 1.0;
const double kLossWrong = std::log(std::exp(1.0) + 2.0);
const double kLossFlat = std::log(3.0);

// Records every value, and per training minibatch the accuracy worked out from the images
// (identity model: right iff the lit pixel is the label). It runs after the metrics.
struct Recorder : Logger {
  std::vector<MetricValue> values;
  std::vector<double> batch_accuracy;
  void log(const MetricValue& v) override { values.push_back(v); }
  void after_training_iteration(SupervisedTemplate& s) override {
    const auto x = s.mb_x.to_vector<float>();
    const auto y = s.mb_y.to_vector<int64_t>();
    int64_t right = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      int64_t shown = 0;
      for (int64_t k = 1; k < kClasses; ++k) {
        if (x[i * kClasses + k] > x[i * kClasses + shown]) shown = k;
      }
      right += shown == y[i];
    }
    batch_accuracy.push_back(static_cast<double>(right) / static_cast<double>(y.size()));
  }
  std::vector<double> all(const std::string& name) const {
    std::vector<double> out;
    for (const auto& v : values) {
      if (v.name == name) out.push_back(v.value);
    }
    return out;
  }
};

const std::string kTest = "test_stream";
std::string exp_name(const std::string& base, int64_t e) { return metric_name(base, true, kTest, e); }

}  // namespace

TEST_CASE("metrics accuracy and loss per minibatch epoch experience and stream") {
  // Experience 0: 6 images, 4 right (shown == label); experience 1: 4 images, 1 right.
  const auto ds = one_hot_images({{0, 0}, {1, 1}, {2, 2}, {0, 0}, {1, 2}, {2, 0},  //
                                  {0, 0}, {0, 1}, {1, 2}, {2, 1}});
  const std::vector<data::Experience> stream{data::make_experience(0, ds, range(0, 6)),
                                             data::make_experience(1, ds, range(6, 10))};
  TinyModel m = tiny_model();
  auto recorder = std::make_shared<Recorder>();
  auto evaluator = default_evaluator();
  evaluator->add_logger(recorder);
  Naive strategy(m.module, tiny_options(4, 2, -1), {}, evaluator);
  strategy.train(stream[0]);

  // Minibatches of 4 and 2 (shuffled): each value matches the hand count of its images, and
  // the loss of a one-hot row is kLossWrong - [right], so Loss_MB = kLossWrong - accuracy.
  const auto mb_acc = recorder->all(metric_name("Top1_Acc_MB", false, "train_stream"));
  const auto mb_loss = recorder->all(metric_name("Loss_MB", false, "train_stream"));
  REQUIRE(mb_acc.size() == 4);  // 2 epochs x 2 minibatches
  REQUIRE(recorder->batch_accuracy.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(mb_acc[i] == doctest::Approx(recorder->batch_accuracy[i]));
    CHECK(mb_loss[i] == doctest::Approx(kLossWrong - recorder->batch_accuracy[i]).epsilon(1e-5));
  }
  // Epoch: 4 of 6 right whatever the order; loss (4 * right + 2 * wrong) / 6.
  const auto epoch_acc = recorder->all(metric_name("Top1_Acc_Epoch", false, "train_stream"));
  const auto epoch_loss = recorder->all(metric_name("Loss_Epoch", false, "train_stream"));
  REQUIRE(epoch_acc.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(epoch_acc[i] == doctest::Approx(4.0 / 6.0));
    CHECK(epoch_loss[i] == doctest::Approx((4 * kLossRight + 2 * kLossWrong) / 6).epsilon(1e-5));
  }

  // Evaluation, minibatches of 4: experience 0 = 4/6, experience 1 = 1/4, stream = 5/10.
  const auto results = strategy.eval(stream);
  CHECK(results.at(exp_name("Top1_Acc_Exp", 0)) == doctest::Approx(4.0 / 6.0));
  CHECK(results.at(exp_name("Loss_Exp", 0)) ==
        doctest::Approx((4 * kLossRight + 2 * kLossWrong) / 6).epsilon(1e-5));
  CHECK(results.at(exp_name("Top1_Acc_Exp", 1)) == doctest::Approx(0.25));
  CHECK(results.at(exp_name("Loss_Exp", 1)) ==
        doctest::Approx((kLossRight + 3 * kLossWrong) / 4).epsilon(1e-5));
  CHECK(results.at(metric_name("Top1_Acc_Stream", true, kTest)) == doctest::Approx(0.5));
  CHECK(results.at(metric_name("Loss_Stream", true, kTest)) ==
        doctest::Approx((5 * kLossRight + 5 * kLossWrong) / 10).epsilon(1e-5));

  // With an all-zero weight every logit ties: class 0 is predicted, each loss is log(3).
  m.set(false);
  const auto flat = strategy.eval(stream, "other_stream");
  CHECK(flat.at(metric_name("Top1_Acc_Exp", true, "other_stream", 0)) == doctest::Approx(3.0 / 6.0));
  CHECK(flat.at(metric_name("Top1_Acc_Exp", true, "other_stream", 1)) == doctest::Approx(1.0 / 4.0));
  CHECK(flat.at(metric_name("Loss_Stream", true, "other_stream")) ==
        doctest::Approx(kLossFlat).epsilon(1e-5));
  // The earlier stream's values are still there, under their own names.
  CHECK(flat.at(metric_name("Top1_Acc_Stream", true, kTest)) == doctest::Approx(0.5));
}

TEST_CASE("metrics forgetting per experience and stream mean") {
  // Under identity: T0 4/4 right, T1 3/4, T2 2/2. Under the zero weight (class 0 always):
  // T0 2/4 (labels 0, 0, 1, 1), T1 0/4, T2 1/2.
  const auto ds = one_hot_images({{0, 0}, {0, 0}, {1, 1}, {1, 1},  //
                                  {1, 1}, {2, 2}, {1, 1}, {1, 2},  //
                                  {2, 2}, {0, 0}});
  const std::vector<data::Experience> stream{data::make_experience(0, ds, range(0, 4)),
                                             data::make_experience(1, ds, range(4, 8)),
                                             data::make_experience(2, ds, range(8, 10))};
  TinyModel m = tiny_model();
  auto recorder = std::make_shared<Recorder>();
  auto evaluator = default_evaluator();
  evaluator->add_logger(recorder);
  Naive strategy(m.module, tiny_options(4, 1, 0), {}, evaluator);
  const Streams eval_streams{stream};
  const std::string stream_forgetting = "StreamForgetting/eval_phase/" + kTest;

  // After experience 0 (identity): T0's first accuracy is 1; nothing can be forgotten yet.
  strategy.train(stream[0], eval_streams);
  CHECK(recorder->all(exp_name("ExperienceForgetting", 0)).empty());
  CHECK(evaluator->last(stream_forgetting) == nullptr);

  // After experience 1 (zero weight): T0 forgot 1 - 0.5; T1's first accuracy is 0 (measured
  // now, after training it); T2 has not been trained.
  m.set(false);
  strategy.train(stream[1], eval_streams);
  CHECK(recorder->all(exp_name("ExperienceForgetting", 0)) == std::vector<double>{0.5});
  CHECK(recorder->all(exp_name("ExperienceForgetting", 1)).empty());
  CHECK(evaluator->last(stream_forgetting)->value == doctest::Approx(0.5));

  // After experience 2 (identity again): T0 1 - 1 = 0, T1 0 - 0.75 = -0.75; mean -0.375.
  m.set(true);
  strategy.train(stream[2], eval_streams);
  CHECK(recorder->all(exp_name("ExperienceForgetting", 0)) == std::vector<double>{0.5, 0.0});
  CHECK(recorder->all(exp_name("ExperienceForgetting", 1)) == std::vector<double>{-0.75});
  CHECK(recorder->all(exp_name("ExperienceForgetting", 2)).empty());
  CHECK(recorder->all(stream_forgetting) == std::vector<double>{0.5, -0.375});

  // The confusion matrix of that last evaluation (rows: true class, columns: predicted).
  const MetricValue* cm = evaluator->last("ConfusionMatrix_Stream/eval_phase/" + kTest);
  REQUIRE(cm != nullptr);
  CHECK(cm->matrix == std::vector<std::vector<double>>{{3, 0, 0}, {0, 4, 0}, {0, 1, 2}});
  CHECK(cm->value == 10);
}

TEST_CASE("metrics timing and peak memory are present and positive") {
  const auto ds = one_hot_images({{0, 0}, {1, 1}, {2, 2}, {0, 1}});
  const std::vector<data::Experience> stream{data::make_experience(0, ds, range(0, 2)),
                                             data::make_experience(1, ds, range(2, 4))};
  TinyModel m = tiny_model();
  Naive strategy(m.module, tiny_options(2, 2, 0));
  strategy.train(stream, Streams{stream});
  const auto results = strategy.eval(stream);
  for (const std::string& name :
       {metric_name("Time_Epoch", false, "train_stream"),
        metric_name("Time_Exp", false, "train_stream", 0),
        metric_name("Time_Exp", false, "train_stream", 1),
        metric_name("Time_Exp", true, kTest, 0), metric_name("Time_Exp", true, kTest, 1),
        metric_name("MaxRAMUsage_Experience", false, "train_stream", 0),
        metric_name("MaxRAMUsage_Experience", false, "train_stream", 1)}) {
    INFO(name);
    REQUIRE(results.count(name) == 1);
    CHECK(results.at(name) > 0.0);
  }
  CHECK(peak_rss_mib() > 1.0);  // this process holds more than a MiB
}

TEST_CASE("metrics eval returns the last value of every metric and no matrices") {
  const auto ds = one_hot_images({{0, 0}, {1, 1}, {2, 1}, {0, 2}});
  const std::vector<data::Experience> stream{data::make_experience(0, ds, range(0, 4))};
  TinyModel m = tiny_model();
  auto evaluator = default_evaluator();
  Naive strategy(m.module, tiny_options(2, 1, -1), {}, evaluator);
  strategy.train(stream[0]);
  strategy.eval(stream);
  m.set(false);
  const auto results = strategy.eval(stream);

  std::map<std::string, double> expected;
  for (const MetricValue& v : evaluator->history()) {
    if (v.matrix.empty()) expected[v.name] = v.value;  // later values overwrite earlier ones
  }
  CHECK(results == expected);
  CHECK(results.count("ConfusionMatrix_Stream/eval_phase/" + kTest) == 0);
  CHECK(evaluator->last("ConfusionMatrix_Stream/eval_phase/" + kTest) != nullptr);
  // The second evaluation's values won: zero weight predicts class 0, right once of 4.
  CHECK(results.at(metric_name("Top1_Acc_Stream", true, kTest)) == doctest::Approx(0.25));
  // Training values are there too (accuracy under identity: 2 of 4).
  CHECK(results.at(metric_name("Top1_Acc_Epoch", false, "train_stream")) == doctest::Approx(0.5));
  // Every value was emitted at the run's training iteration (2 minibatches).
  CHECK(evaluator->history().back().x == 2);
}
