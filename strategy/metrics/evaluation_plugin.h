#pragma once
// Metrics and loggers (Avalanche's EvaluationPlugin). Metrics are plugins that compute values
// from the strategy's state and emit them here; the evaluator keeps every value (or, for a
// strategy that learns for months, only the last of each name) and passes it to each logger.
// Names follow Avalanche, e.g.
//   Top1_Acc_Epoch/train_phase/train_stream/Task000
//   Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp003
//   StreamForgetting/eval_phase/test_stream
// so dashboards written for Avalanche read ours.
//
// To add a metric: derive from Metric, override the events it needs, and call emit().
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "strategy/plugin.h"

namespace ar1::strategy {

struct MetricValue {
  std::string name;
  double value = 0;
  int64_t x = 0;        // the strategy's training iteration when emitted
  int64_t trained = 0;  // experiences trained so far when emitted
  // Matrix-valued metrics (the confusion matrix) fill this; value is then its total.
  std::vector<std::vector<double>> matrix;
};

class EvaluationPlugin;

class Metric : public Plugin {
 public:
  void attach(EvaluationPlugin* sink) { sink_ = sink; }

 protected:
  void emit(SupervisedTemplate& s, const std::string& name, double value,
            std::vector<std::vector<double>> matrix = {});

 private:
  EvaluationPlugin* sink_ = nullptr;
};

class Logger : public Plugin {
 public:
  virtual void log(const MetricValue& value) = 0;
};

// What the evaluator keeps: every value (a run's report reads them all), or the last value of
// each name only, so that memory stays bounded however long the strategy learns (the C API).
enum class MetricHistory { all, last_only };

class EvaluationPlugin final : public Plugin {
 public:
  EvaluationPlugin(std::vector<std::shared_ptr<Metric>> metrics,
                   std::vector<std::shared_ptr<Logger>> loggers = {},
                   MetricHistory keep = MetricHistory::all);

  void record(MetricValue value);
  // Every value in order (empty with MetricHistory::last_only).
  const std::vector<MetricValue>& history() const { return history_; }
  // Replaces the history (a resumed run), without logging it again.
  void restore_history(std::vector<MetricValue> history);
  // The last value of every metric name (matrices excluded).
  std::map<std::string, double> last_metrics() const;
  const MetricValue* last(const std::string& name) const;
  void add_logger(std::shared_ptr<Logger> logger) { loggers_.push_back(std::move(logger)); }

  bool graph_safe() const override;

  // Plugin events go to every metric first, then to every logger.
#define AR1_FORWARD_EVENT(event) void event(SupervisedTemplate& s) override;
  AR1_PLUGIN_EVENTS(AR1_FORWARD_EVENT)
#undef AR1_FORWARD_EVENT

 private:
  void forward_event(void (Plugin::*event)(SupervisedTemplate&), SupervisedTemplate& s);

  std::vector<std::shared_ptr<Metric>> metrics_;
  std::vector<std::shared_ptr<Logger>> loggers_;
  MetricHistory keep_;
  std::vector<MetricValue> history_;
  std::map<std::string, MetricValue> last_;
};

// Accuracy and loss (epoch in training; experience and stream in evaluation), forgetting,
// the stream confusion matrix, timing and peak memory, with no logger.
std::shared_ptr<EvaluationPlugin> default_evaluator();

// "Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp003" (experience < 0: no Exp part).
std::string metric_name(const std::string& base, bool eval_phase, const std::string& stream,
                        int64_t experience = -1);

}  // namespace ar1::strategy
