// The training template's control flow: plugin events in order around one iteration,
// stop_training(), and periodic evaluation (eval_every -1, 0, k). The model is Flatten ->
// Linear(3, 3) on one-row images, learning rate 0: only the flow is under test here.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "data/scenario.h"
#include "nn/modules/all.h"
#include "strategy/naive.h"
#include "tests/strategy/one_hot_fixture.h"

using namespace ar1;
using namespace ar1::strategy;
using namespace ar1::testing;

namespace {

// n images; image i is all zero but pixel i % 3, label labels[i].
data::DatasetPtr images(const std::vector<int64_t>& labels) {
  std::vector<Sample> samples;
  for (size_t i = 0; i < labels.size(); ++i) {
    samples.push_back({static_cast<int64_t>(i) % kClasses, labels[i]});
  }
  return one_hot_images(samples);
}

// Writes down every training event it receives.
struct EventLog : Plugin {
  std::vector<std::string> events;
#define AR1_LOG_EVENT(name) \
  void name(SupervisedTemplate&) override { events.push_back(#name); }
  AR1_LOG_EVENT(before_training)
  AR1_LOG_EVENT(before_training_exp)
  AR1_LOG_EVENT(before_training_epoch)
  AR1_LOG_EVENT(before_training_iteration)
  AR1_LOG_EVENT(before_forward)
  AR1_LOG_EVENT(after_forward)
  AR1_LOG_EVENT(before_backward)
  AR1_LOG_EVENT(after_backward)
  AR1_LOG_EVENT(before_update)
  AR1_LOG_EVENT(after_update)
  AR1_LOG_EVENT(after_training_iteration)
  AR1_LOG_EVENT(after_training_epoch)
  AR1_LOG_EVENT(after_training_exp)
  AR1_LOG_EVENT(after_training)
#undef AR1_LOG_EVENT
};

// Counts evaluations and the training rows (and their labels) seen in each epoch.
struct Counter : Plugin {
  int evaluations = 0;
  std::vector<int64_t> rows_per_epoch;
  std::set<int64_t> train_labels;
  void before_eval(SupervisedTemplate&) override { ++evaluations; }
  void before_training_epoch(SupervisedTemplate&) override { rows_per_epoch.push_back(0); }
  void after_training_iteration(SupervisedTemplate& s) override {
    rows_per_epoch.back() += s.mb_y.size(0);
    for (int64_t y : s.mb_y.to_vector<int64_t>()) train_labels.insert(y);
  }
};

}  // namespace

TEST_CASE("template plugin events of one iteration come in order") {
  const auto ds = images({0, 1, 2});
  const data::Experience exp = data::make_experience(0, ds, range(0, 3));
  auto log = std::make_shared<EventLog>();
  Naive strategy(tiny_model().module, tiny_options(8, 1, -1), {log});
  strategy.train(exp);
  const std::vector<std::string> expected{
      "before_training",          "before_training_exp", "before_training_epoch",
      "before_training_iteration", "before_forward",      "after_forward",
      "before_backward",          "after_backward",      "before_update",
      "after_update",             "after_training_iteration", "after_training_epoch",
      "after_training_exp",       "after_training"};
  CHECK(log->events == expected);
  CHECK(strategy.clock().train_iterations == 1);
  CHECK(strategy.clock().train_exp_counter == 1);
}

TEST_CASE("template stop_training ends the experience after the current iteration") {
  // 8 images, minibatches of 2: 4 iterations per epoch, 3 epochs. The plugin stops at the
  // second iteration of the first experience.
  struct Stopper : Plugin {
    int64_t iterations = 0, epochs_ended = 0, experiences_ended = 0;
    void after_training_iteration(SupervisedTemplate& s) override {
      ++iterations;
      if (s.clock().train_exp_counter == 0 && s.clock().train_exp_iterations == 2) {
        s.stop_training();
      }
    }
    void after_training_epoch(SupervisedTemplate&) override { ++epochs_ended; }
    void after_training_exp(SupervisedTemplate&) override { ++experiences_ended; }
  };
  const auto ds = images({0, 1, 2, 0, 1, 2, 0, 1});
  const data::Experience exp = data::make_experience(0, ds, range(0, 8));
  auto stopper = std::make_shared<Stopper>();
  Naive strategy(tiny_model().module, tiny_options(2, 3, -1), {stopper});
  strategy.train(exp);
  CHECK(stopper->iterations == 2);
  CHECK(stopper->epochs_ended == 1);  // the interrupted epoch still ends
  CHECK(stopper->experiences_ended == 1);
  CHECK(strategy.clock().train_exp_epochs == 1);
  CHECK(strategy.clock().train_iterations == 2);

  // The next experience trains in full: 3 epochs x 4 iterations.
  strategy.train(exp);
  CHECK(stopper->iterations == 2 + 12);
  CHECK(stopper->epochs_ended == 1 + 3);
}

TEST_CASE("template eval_every counts evaluations") {
  // Two experiences of 3 epochs each, one eval stream. Per experience: -1: none; 0: one at
  // its end; 1: after epochs 1 and 2 and at the end; 2: after epoch 2 and at the end; 3: at
  // the end only (epoch 3 is the last, the end-of-experience evaluation covers it).
  const auto ds = images({0, 1, 2, 0, 1, 2});
  const std::vector<data::Experience> stream{data::make_experience(0, ds, range(0, 3)),
                                             data::make_experience(1, ds, range(3, 6))};
  const std::pair<int, int> cases[] = {{-1, 0}, {0, 2}, {1, 6}, {2, 4}, {3, 2}, {5, 2}};
  for (const auto& [eval_every, evaluations] : cases) {
    const int every = eval_every;  // clang 14 cannot capture a binding in INFO
    INFO("eval_every = " << every);
    auto counter = std::make_shared<Counter>();
    Naive strategy(tiny_model().module, tiny_options(2, 3, eval_every), {counter});
    strategy.train(stream, Streams{stream});
    CHECK(counter->evaluations == evaluations);
    // Without eval streams nothing is evaluated whatever eval_every says.
    auto quiet = std::make_shared<Counter>();
    Naive strategy2(tiny_model().module, tiny_options(2, 3, eval_every), {quiet});
    strategy2.train(stream);
    CHECK(quiet->evaluations == 0);
  }
}

TEST_CASE("template training after a periodic evaluation still reads the training data") {
  // Train experience: 4 images of class 0. Eval stream: 6 images of classes 1 and 2. With
  // eval_every = 1 an evaluation runs between epochs; every training epoch must still see
  // the 4 training images (and only class 0).
  const auto ds = images({0, 0, 0, 0, 1, 2, 1, 2, 1, 2});
  const data::Experience train = data::make_experience(0, ds, range(0, 4));
  const std::vector<data::Experience> test{data::make_experience(0, ds, range(4, 10))};
  auto counter = std::make_shared<Counter>();
  Naive strategy(tiny_model().module, tiny_options(2, 3, 1), {counter});
  strategy.train(train, Streams{test});
  CHECK(counter->evaluations == 3);
  INFO("rows per epoch " << counter->rows_per_epoch[0] << " " << counter->rows_per_epoch[1] << " " << counter->rows_per_epoch[2] << ", labels seen " << counter->train_labels.size());
  CHECK(counter->rows_per_epoch == std::vector<int64_t>{4, 4, 4});
  CHECK(counter->train_labels == std::set<int64_t>{0});
  CHECK(strategy.model().is_training());  // evaluation restored the training mode
}
