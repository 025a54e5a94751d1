#include "strategy/metrics/evaluation_plugin.h"

#include <cstdio>

#include "strategy/metrics/standard_metrics.h"
#include "strategy/template.h"

namespace ar1::strategy {

void Metric::emit(SupervisedTemplate& s, const std::string& name, double value,
                  std::vector<std::vector<double>> matrix) {
  if (sink_ == nullptr) return;
  sink_->record({name, value, s.clock().train_iterations, s.clock().train_exp_counter,
                 std::move(matrix)});
}

EvaluationPlugin::EvaluationPlugin(std::vector<std::shared_ptr<Metric>> metrics,
                                   std::vector<std::shared_ptr<Logger>> loggers,
                                   MetricHistory keep)
    : metrics_(std::move(metrics)), loggers_(std::move(loggers)), keep_(keep) {
  for (auto& m : metrics_) m->attach(this);
}

void EvaluationPlugin::record(MetricValue value) {
  for (auto& l : loggers_) l->log(value);
  if (keep_ == MetricHistory::all) history_.push_back(value);
  last_[value.name] = std::move(value);
}

void EvaluationPlugin::restore_history(std::vector<MetricValue> history) {
  last_.clear();
  for (const MetricValue& v : history) last_[v.name] = v;
  history_ = keep_ == MetricHistory::all ? std::move(history) : std::vector<MetricValue>{};
}

std::map<std::string, double> EvaluationPlugin::last_metrics() const {
  std::map<std::string, double> out;
  for (const auto& [name, v] : last_) {
    if (v.matrix.empty()) out[name] = v.value;
  }
  return out;
}

const MetricValue* EvaluationPlugin::last(const std::string& name) const {
  const auto it = last_.find(name);
  return it == last_.end() ? nullptr : &it->second;
}

void EvaluationPlugin::forward_event(void (Plugin::*event)(SupervisedTemplate&),
                                     SupervisedTemplate& s) {
  for (auto& m : metrics_) ((*m).*event)(s);
  for (auto& l : loggers_) ((*l).*event)(s);
}

#define AR1_FORWARD_EVENT(event) \
  void EvaluationPlugin::event(SupervisedTemplate& s) { forward_event(&Plugin::event, s); }
AR1_PLUGIN_EVENTS(AR1_FORWARD_EVENT)
#undef AR1_FORWARD_EVENT

std::shared_ptr<EvaluationPlugin> default_evaluator() {
  return std::make_shared<EvaluationPlugin>(std::vector<std::shared_ptr<Metric>>{
      std::make_shared<AccuracyLossMetrics>(), std::make_shared<ForgettingMetrics>(),
      std::make_shared<StreamConfusionMatrix>(), std::make_shared<TimingMetrics>(),
      std::make_shared<PeakMemoryMetric>()});
}

std::string metric_name(const std::string& base, bool eval_phase, const std::string& stream,
                        int64_t experience) {
  std::string name = base + (eval_phase ? "/eval_phase/" : "/train_phase/") + stream + "/Task000";
  if (experience >= 0) {
    char buf[32];  // "/Exp" and up to 19 digits
    std::snprintf(buf, sizeof buf, "/Exp%03lld", static_cast<long long>(experience));
    name += buf;
  }
  return name;
}

}  // namespace ar1::strategy

namespace ar1::strategy {

bool EvaluationPlugin::graph_safe() const {
  for (const auto& m : metrics_) {
    if (!m->graph_safe()) return false;
  }
  for (const auto& l : loggers_) {
    if (!l->graph_safe()) return false;
  }
  return true;
}

}  // namespace ar1::strategy
