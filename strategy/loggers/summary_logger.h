#pragma once
// SummaryLogger: the common part of the human- and table-oriented loggers (TextLogger,
// CsvLogger). It reads the metric values the evaluator passes to log() and the strategy's
// events, and hands its subclass one record per training epoch and one per evaluation:
//
//   on_epoch_start(progress)   before the first minibatch of an epoch
//   on_iteration(progress)     after every training minibatch (running loss and accuracy)
//   on_epoch(EpochSummary)     after the epoch's metrics (Top1_Acc_Epoch, Loss_Epoch, Time_Epoch)
//   on_eval(EvalSummary)       after an evaluation: per experience accuracy, loss, forgetting
//
// Values come from the metrics (strategy/metrics/standard_metrics.h); a value whose metric is
// not in the evaluator is NaN. A logger only sees values when it is one of the evaluator's
// loggers (EvaluationPlugin's constructor or add_logger()), not as a plain plugin.
//
// To add a logger of this kind: derive, override the on_* hooks you need, and put the file
// handling in close().
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "strategy/metrics/evaluation_plugin.h"

namespace ar1::strategy {

inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// "Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp003" -> base "Top1_Acc_Exp",
// phase "eval_phase", stream "test_stream", experience 3 (-1 without an Exp part).
struct MetricNameParts {
  std::string base, phase, stream;
  int64_t experience = -1;
};
MetricNameParts parse_metric_name(const std::string& name);

struct EpochProgress {
  int64_t training_exp = 0;   // clock().train_exp_counter: experiences trained before this one
  int64_t epoch = 0;          // 0-based epoch of this experience
  int64_t epochs = 0;         // options().train_epochs
  int64_t iteration = 0;      // minibatches done in this epoch
  int64_t iterations = 0;     // the loader's num_batches()
  double loss = kMissing;     // running mean over the epoch's rows so far
  double accuracy = kMissing;
  double seconds = 0;         // since the epoch started
};

struct EpochSummary {
  int64_t training_exp = 0;
  int64_t epoch = 0;
  int64_t epochs = 0;
  double accuracy = kMissing;
  double loss = kMissing;
  double seconds = kMissing;  // Time_Epoch, or the logger's own clock without TimingMetrics
};

struct ExperienceResult {
  int64_t experience = 0;
  double accuracy = kMissing;
  double loss = kMissing;
  double forgetting = kMissing;  // NaN until the experience can have been forgotten
};

struct EvalSummary {
  std::string stream;
  int64_t training_exp = -1;  // experiences trained so far - 1 (-1: before any training)
  std::vector<ExperienceResult> experiences;  // in evaluation order
  double accuracy = kMissing;                 // Top1_Acc_Stream
  double loss = kMissing;                     // Loss_Stream
  double forgetting = kMissing;               // StreamForgetting
};

class SummaryLogger : public Logger {
 public:
  bool graph_safe() const override { return true; }
  void log(const MetricValue& value) override;

  void before_training_epoch(SupervisedTemplate& s) override;
  void after_training_iteration(SupervisedTemplate& s) override;
  void after_training_epoch(SupervisedTemplate& s) override;
  void before_eval(SupervisedTemplate& s) override;
  void after_eval(SupervisedTemplate& s) override;

 protected:
  virtual void on_epoch_start(const EpochProgress&) {}
  virtual void on_iteration(const EpochProgress&) {}
  virtual void on_epoch(const EpochSummary&) {}
  virtual void on_eval(const EvalSummary&) {}

 private:
  ExperienceResult& row(int64_t experience);

  std::chrono::steady_clock::time_point epoch_start_;
  EpochProgress progress_;
  EpochSummary epoch_;
  double correct_ = 0, loss_sum_ = 0;  // running sums over the epoch's rows
  int64_t rows_ = 0;
  double mb_accuracy_ = kMissing, mb_loss_ = kMissing;  // this iteration's Top1_Acc_MB, Loss_MB
  bool in_eval_ = false;
  EvalSummary eval_;
};

}  // namespace ar1::strategy
