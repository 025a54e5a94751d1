#pragma once
// The supervised training template (Avalanche's SupervisedTemplate): the loop over
// experiences, epochs and minibatches with a plugin event around every step, and evaluation.
// Strategies derive from it and override the steps they change (AR1: strategy/ar1.h; plain
// fine-tuning: strategy/naive.h).
//
// train(experience) runs, in order: train_dataset_adaptation, make_train_dataloader,
// model_adaptation, make_optimizer, before_training_exp, then per epoch training_epoch
// (per minibatch: forward, criterion, backward, optimizer_step), after_training_exp.
// eval(experiences) returns the last value of every metric the evaluator recorded.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/loader.h"
#include "data/scenario.h"
#include "nn/module.h"
#include "nn/optim/sgd.h"
#include "strategy/plugin.h"

namespace ar1::strategy {

class EvaluationPlugin;

// Counters of the run so far (Avalanche's Clock).
struct Clock {
  int64_t train_exp_counter = 0;       // experiences trained so far
  int64_t train_exp_epochs = 0;        // epochs of the current experience so far
  int64_t train_exp_iterations = 0;    // iterations of the current experience so far
  int64_t train_epoch_iterations = 0;  // iterations of the current epoch so far
  int64_t train_iterations = 0;        // every training iteration of the run
  int64_t total_iterations = 0;        // training and evaluation iterations
};

using Criterion = std::function<Tensor(const Tensor& output, const Tensor& targets)>;
using Streams = std::vector<std::vector<data::Experience>>;

struct TemplateOptions {
  int64_t train_mb_size = 128;
  int64_t train_epochs = 1;
  int64_t eval_mb_size = 128;
  // -1: no evaluation while training; 0: evaluate eval_streams after each experience;
  // k > 0: also every k epochs.
  int eval_every = -1;
  Device device = Device::cpu();
  uint64_t seed = 0;
  int num_workers = 0;  // loader threads (0: build batches on the training thread)
  data::Pipeline train_pipeline = data::standard_pipeline(0);
  data::Pipeline eval_pipeline = data::standard_pipeline(0);
  nn::SGDOptions sgd{};  // the optimiser make_optimizer() builds
};

class SupervisedTemplate {
 public:
  SupervisedTemplate(std::shared_ptr<nn::Module> model, TemplateOptions options,
                     std::vector<std::shared_ptr<Plugin>> plugins = {},
                     std::shared_ptr<EvaluationPlugin> evaluator = nullptr,
                     Criterion criterion = {});
  virtual ~SupervisedTemplate();
  SupervisedTemplate(const SupervisedTemplate&) = delete;
  SupervisedTemplate& operator=(const SupervisedTemplate&) = delete;

  void train(const data::Experience& experience, const Streams& eval_streams = {});
  void train(const std::vector<data::Experience>& experiences, const Streams& eval_streams = {});
  // Evaluates on `experiences` (metrics are named after `stream_name`).
  std::map<std::string, double> eval(const std::vector<data::Experience>& experiences,
                                     const std::string& stream_name = "test_stream");

  // Ends training after the current iteration (e.g. from a plugin).
  void stop_training() { stop_training_ = true; }
  // From a plugin before the update: this iteration makes no update (no before_update,
  // optimizer_step or after_update) and its minibatch counts in no training metric.
  void skip_update() { skip_update_ = true; }
  bool iteration_skipped() const { return skip_update_; }

  // ---- state plugins read (Avalanche's names) ----
  Tensor mb_x, mb_y, mb_task_id, mb_output, loss;
  std::vector<int64_t> mb_indices;  // the minibatch's rows in its experience's dataset
  bool is_eval() const { return is_eval_; }
  bool is_training() const { return !is_eval_; }
  const data::Experience* experience() const { return experience_; }
  // "train_stream" while training, the evaluated stream's name while evaluating.
  const std::string& stream_name() const { return is_eval_ ? eval_stream_ : train_stream_; }
  Clock& clock() { return clock_; }
  const Clock& clock() const { return clock_; }
  nn::Module& model() { return *model_; }
  nn::SGD* optimizer() { return optimizer_.get(); }
  data::DataLoader* dataloader() { return dataloader_.get(); }
  const TemplateOptions& options() const { return options_; }
  TemplateOptions& mutable_options() { return options_; }
  Generator& rng() { return rng_; }
  EvaluationPlugin* evaluator() { return evaluator_.get(); }
  const std::vector<std::shared_ptr<Plugin>>& plugins() const { return plugins_; }

 protected:
  // ---- overridable steps ----
  virtual void train_dataset_adaptation() {}
  virtual void eval_dataset_adaptation() {}
  virtual void make_train_dataloader();
  virtual void make_eval_dataloader();
  virtual void model_adaptation() {}
  // Default: SGD over every parameter with options().sgd, momentum reset per experience.
  virtual void make_optimizer();
  virtual void training_epoch();
  virtual void eval_epoch();
  virtual void forward();
  virtual void criterion();
  virtual void backward();
  virtual void optimizer_step();
  // The strategy's own end-of-experience work, before the plugins' after_training_exp.
  virtual void finish_experience() {}

  // A loader batch into mb_x / mb_y / mb_task_id on the strategy's device; `images` and
  // `labels` are its tensors already there (a BatchPrefetcher's), or undefined to copy them now.
  void set_minibatch(const data::Batch& batch, const Tensor& images = {},
                     const Tensor& labels = {});
  // Calls `event` on every plugin, then on the evaluator.
  void notify(void (Plugin::*event)(SupervisedTemplate&));
  // Replaces the plugin list (strategies put their own plugins first).
  void set_plugins(std::vector<std::shared_ptr<Plugin>> plugins) { plugins_ = std::move(plugins); }
  bool stop_requested() const { return stop_training_; }
  // One training iteration on the minibatch in mb_x / mb_y, with every plugin event:
  // before_training_iteration, training_step(), the clocks, after_training_iteration.
  void training_iteration();
  // The device work of an iteration with its events: zero the gradients, forward, criterion,
  // backward, optimizer_step (a strategy may run it as a CUDA graph: strategy/graph_steps.h).
  virtual void training_step();
  // Whether every plugin and the evaluator declare themselves graph_safe().
  bool plugins_graph_safe() const;

  std::shared_ptr<nn::Module> model_;
  TemplateOptions options_;
  std::unique_ptr<nn::SGD> optimizer_;
  std::unique_ptr<data::DataLoader> dataloader_;
  Generator rng_;
  Criterion criterion_;

 private:
  void train_experience(const data::Experience& experience, const Streams& eval_streams);
  void periodic_eval(const Streams& eval_streams);

  std::vector<std::shared_ptr<Plugin>> plugins_;
  std::shared_ptr<EvaluationPlugin> evaluator_;
  const data::Experience* experience_ = nullptr;
  std::string train_stream_ = "train_stream";
  std::string eval_stream_ = "test_stream";
  Clock clock_;
  bool is_eval_ = false;
  bool stop_training_ = false;
  bool skip_update_ = false;
};

}  // namespace ar1::strategy
