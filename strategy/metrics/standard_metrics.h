#pragma once
// The standard metrics of the default evaluator (strategy/metrics/evaluation_plugin.h).
#include <chrono>
#include <map>
#include <vector>

#include "strategy/metrics/evaluation_plugin.h"

namespace ar1::strategy {

// Top-1 accuracy and loss: per minibatch and epoch while training; per experience and stream
// while evaluating. Counts every row of mb_output against mb_y (AR1's replayed rows included,
// as in Avalanche).
class AccuracyLossMetrics final : public Metric {
 public:
  bool graph_safe() const override { return true; }
  void after_training_iteration(SupervisedTemplate& s) override;
  void before_training_epoch(SupervisedTemplate& s) override;
  void after_training_epoch(SupervisedTemplate& s) override;
  void before_eval(SupervisedTemplate& s) override;
  void before_eval_exp(SupervisedTemplate& s) override;
  void after_eval_iteration(SupervisedTemplate& s) override;
  void after_eval_exp(SupervisedTemplate& s) override;
  void after_eval(SupervisedTemplate& s) override;

  struct Totals {
    int64_t correct = 0, seen = 0;
    double loss_sum = 0;
    void add(SupervisedTemplate& s);
  };

 private:
  Totals epoch_, experience_, stream_;
};

// Forgetting: for a test experience j, its accuracy the first time it was evaluated after
// train experience j, minus its accuracy now (only once a later training experience has
// happened). Stream forgetting: the mean over the experiences of this evaluation that have
// one. Computed from the evaluator's history alone, so a resumed run (history restored from a
// checkpoint) gives the same values. Reads Top1_Acc_Exp: AccuracyLossMetrics must come before
// it in the evaluator's metric list (default_evaluator() does so).
class ForgettingMetrics final : public Metric {
 public:
  bool graph_safe() const override { return true; }
  void before_eval(SupervisedTemplate& s) override;
  void after_eval_exp(SupervisedTemplate& s) override;
  void after_eval(SupervisedTemplate& s) override;

 private:
  double sum_ = 0;
  int64_t count_ = 0;
};

// Confusion matrix (rows: true class, columns: predicted) over a whole evaluated stream.
class StreamConfusionMatrix final : public Metric {
 public:
  bool graph_safe() const override { return true; }
  void before_eval(SupervisedTemplate& s) override;
  void after_eval_iteration(SupervisedTemplate& s) override;
  void after_eval(SupervisedTemplate& s) override;

 private:
  std::vector<std::vector<double>> counts_;
};

// Wall time in seconds of each training epoch, training experience and evaluated experience.
class TimingMetrics final : public Metric {
 public:
  bool graph_safe() const override { return true; }
  void before_training_epoch(SupervisedTemplate& s) override;
  void after_training_epoch(SupervisedTemplate& s) override;
  void before_training_exp(SupervisedTemplate& s) override;
  void after_training_exp(SupervisedTemplate& s) override;
  void before_eval_exp(SupervisedTemplate& s) override;
  void after_eval_exp(SupervisedTemplate& s) override;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  TimePoint epoch_start_, exp_start_, eval_start_;
};

// Peak resident memory (MiB) of the process during each training experience (Linux: the
// high-water mark is reset at the start of the experience where the kernel allows it).
class PeakMemoryMetric final : public Metric {
 public:
  bool graph_safe() const override { return true; }
  void before_training_exp(SupervisedTemplate& s) override;
  void after_training_exp(SupervisedTemplate& s) override;
};

// Peak resident set size of this process in MiB (VmHWM), and a reset of that mark.
double peak_rss_mib();
void reset_peak_rss();

}  // namespace ar1::strategy
