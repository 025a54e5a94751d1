#include "strategy/template.h"

#include <malloc.h>

#include "core/grad_mode.h"
#include "nn/functional.h"
#include "strategy/batch_prefetcher.h"
#include "strategy/metrics/evaluation_plugin.h"

namespace ar1::strategy {

SupervisedTemplate::SupervisedTemplate(std::shared_ptr<nn::Module> model, TemplateOptions options,
                                       std::vector<std::shared_ptr<Plugin>> plugins,
                                       std::shared_ptr<EvaluationPlugin> evaluator,
                                       Criterion criterion)
    : model_(std::move(model)),
      options_(std::move(options)),
      rng_(options_.seed),
      criterion_(std::move(criterion)),
      plugins_(std::move(plugins)),
      evaluator_(evaluator ? std::move(evaluator) : default_evaluator()) {
  AR1_CHECK(model_ != nullptr, "[strategy] no model given");
  AR1_CHECK(options_.train_mb_size > 0 && options_.eval_mb_size > 0,
            "[strategy] train_mb_size and eval_mb_size must be > 0, got ",
            options_.train_mb_size, " and ", options_.eval_mb_size);
  AR1_CHECK(options_.train_epochs >= 0, "[strategy] train_epochs must be >= 0, got ",
            options_.train_epochs);
  AR1_CHECK(options_.eval_every >= -1, "[strategy] eval_every must be -1, 0 or > 0, got ",
            options_.eval_every);
  if (!criterion_) {
    criterion_ = [](const Tensor& out, const Tensor& y) { return nn::cross_entropy(out, y); };
  }
  // The model lives where it trains; optimisers are built per experience, after this.
  model_->to(options_.device);
}

SupervisedTemplate::~SupervisedTemplate() = default;

void SupervisedTemplate::notify(void (Plugin::*event)(SupervisedTemplate&)) {
  for (const auto& p : plugins_) ((*p).*event)(*this);
  ((*evaluator_).*event)(*this);
}

// ---------------------------------------------------------------- training

void SupervisedTemplate::train(const data::Experience& experience, const Streams& eval_streams) {
  train(std::vector<data::Experience>{experience}, eval_streams);
}

void SupervisedTemplate::train(const std::vector<data::Experience>& experiences,
                               const Streams& eval_streams) {
  is_eval_ = false;
  model_->train();
  notify(&Plugin::before_training);
  for (const data::Experience& exp : experiences) train_experience(exp, eval_streams);
  notify(&Plugin::after_training);
}

void SupervisedTemplate::train_experience(const data::Experience& exp,
                                          const Streams& eval_streams) {
  experience_ = &exp;
  is_eval_ = false;
  stop_training_ = false;
  clock_.train_exp_epochs = 0;
  clock_.train_exp_iterations = 0;
  model_->train();
  train_dataset_adaptation();
  make_train_dataloader();
  model_adaptation();
  make_optimizer();
  notify(&Plugin::before_training_exp);
  for (int64_t epoch = 0; epoch < options_.train_epochs && !stop_training_; ++epoch) {
    clock_.train_epoch_iterations = 0;
    notify(&Plugin::before_training_epoch);
    training_epoch();
    notify(&Plugin::after_training_epoch);
    ++clock_.train_exp_epochs;
    const bool last = epoch + 1 == options_.train_epochs;
    if (options_.eval_every > 0 && (epoch + 1) % options_.eval_every == 0 && !last) {
      periodic_eval(eval_streams);
    }
  }
  finish_experience();
  // Hands malloc's free heap memory back to the kernel once per experience: the batch sizes
  // change with every experience, and glibc's heap, fragmenting under them, grew a 201-
  // experience run's peak RSS by 60 MiB (bench/RESULTS.md, "Long-run memory").
  malloc_trim(0);
  notify(&Plugin::after_training_exp);
  ++clock_.train_exp_counter;
  if (options_.eval_every >= 0) periodic_eval(eval_streams);
  experience_ = nullptr;
}

void SupervisedTemplate::periodic_eval(const Streams& eval_streams) {
  if (eval_streams.empty()) return;
  // Evaluation switches modes and the current experience: restore both afterwards.
  std::vector<std::pair<nn::Module*, bool>> modes;
  for (auto& [name, m] : model_->named_modules()) modes.emplace_back(m, m->is_training());
  const data::Experience* current = experience_;
  // Streams are named test_stream, test_stream_1, ... so their metrics stay apart.
  for (size_t i = 0; i < eval_streams.size(); ++i) {
    eval(eval_streams[i], i == 0 ? "test_stream" : "test_stream_" + std::to_string(i));
  }
  for (auto& [m, training] : modes) m->train(training);  // parents first, children override
  experience_ = current;
  is_eval_ = false;
}

void SupervisedTemplate::make_train_dataloader() {
  data::LoaderOptions o;
  o.batch_size = options_.train_mb_size;
  o.shuffle = true;
  o.seed = rng_.next_u64();  // a fresh order per experience, from the strategy's seed
  o.num_workers = options_.num_workers;
  dataloader_ = std::make_unique<data::DataLoader>(experience_->dataset, options_.train_pipeline, o);
}

void SupervisedTemplate::make_optimizer() {
  if (!optimizer_) {
    optimizer_ = std::make_unique<nn::SGD>(model_->named_parameters(), options_.sgd);
  }
  optimizer_->reset_momentum();
}

void SupervisedTemplate::set_minibatch(const data::Batch& batch, const Tensor& images,
                                       const Tensor& labels) {
  mb_x = images.defined() ? images : nn::to_device(batch.images, options_.device);
  mb_y = labels.defined() ? labels : nn::to_device(batch.labels, options_.device);
  mb_task_id = Tensor::zeros({batch.labels.numel()}, DType::i64);
  mb_indices = batch.indices;
}

void SupervisedTemplate::training_epoch() {
  dataloader_->start_epoch(clock_.train_exp_epochs);
  BatchPrefetcher batches(*dataloader_, options_.device);
  data::Batch batch;
  Tensor images, labels;
  while (!stop_training_ && batches.next(batch, images, labels)) {
    set_minibatch(batch, images, labels);
    training_iteration();
  }
}

bool SupervisedTemplate::plugins_graph_safe() const {
  for (const auto& p : plugins_) {
    if (!p->graph_safe()) return false;
  }
  return evaluator_->graph_safe();
}

void SupervisedTemplate::training_iteration() {
  skip_update_ = false;
  notify(&Plugin::before_training_iteration);
  training_step();
  ++clock_.train_epoch_iterations;
  ++clock_.train_exp_iterations;
  ++clock_.train_iterations;
  ++clock_.total_iterations;
  notify(&Plugin::after_training_iteration);
}

void SupervisedTemplate::training_step() {
  optimizer_->zero_grad();
  notify(&Plugin::before_forward);
  forward();
  notify(&Plugin::after_forward);
  criterion();
  notify(&Plugin::before_backward);
  backward();
  notify(&Plugin::after_backward);
  if (skip_update_) return;
  notify(&Plugin::before_update);
  optimizer_step();
  notify(&Plugin::after_update);
}

void SupervisedTemplate::forward() { mb_output = (*model_)(mb_x); }
void SupervisedTemplate::criterion() { loss = criterion_(mb_output, mb_y); }
void SupervisedTemplate::backward() { loss.backward(); }
void SupervisedTemplate::optimizer_step() { optimizer_->step(); }

// ---------------------------------------------------------------- evaluation

std::map<std::string, double> SupervisedTemplate::eval(
    const std::vector<data::Experience>& experiences, const std::string& stream_name) {
  const bool was_eval = is_eval_;
  eval_stream_ = stream_name;
  // Evaluation may run between training epochs: the training loader must survive it.
  std::unique_ptr<data::DataLoader> training_loader = std::move(dataloader_);
  is_eval_ = true;
  model_->eval();
  notify(&Plugin::before_eval);
  for (const data::Experience& exp : experiences) {
    experience_ = &exp;
    eval_dataset_adaptation();
    make_eval_dataloader();
    notify(&Plugin::before_eval_exp);
    eval_epoch();
    notify(&Plugin::after_eval_exp);
  }
  notify(&Plugin::after_eval);
  is_eval_ = was_eval;
  experience_ = nullptr;
  dataloader_ = std::move(training_loader);
  return evaluator_->last_metrics();
}

void SupervisedTemplate::make_eval_dataloader() {
  data::LoaderOptions o;
  o.batch_size = options_.eval_mb_size;
  o.shuffle = false;
  o.num_workers = options_.num_workers;
  dataloader_ = std::make_unique<data::DataLoader>(experience_->dataset, options_.eval_pipeline, o);
}

void SupervisedTemplate::eval_epoch() {
  NoGradGuard no_grad;
  dataloader_->start_epoch(0);
  BatchPrefetcher batches(*dataloader_, options_.device);
  data::Batch batch;
  Tensor images, labels;
  while (batches.next(batch, images, labels)) {
    set_minibatch(batch, images, labels);
    notify(&Plugin::before_eval_iteration);
    notify(&Plugin::before_eval_forward);
    forward();
    notify(&Plugin::after_eval_forward);
    criterion();
    ++clock_.total_iterations;
    notify(&Plugin::after_eval_iteration);
  }
}

}  // namespace ar1::strategy
