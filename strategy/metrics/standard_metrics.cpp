#include "strategy/metrics/standard_metrics.h"

#include <fstream>
#include <string>

#include "nn/functional.h"
#include "strategy/template.h"

namespace ar1::strategy {

namespace {

// Predicted class per row of logits [N, classes] (first maximum on ties).
std::vector<int64_t> predictions(const Tensor& logits_any) {
  const Tensor logits = nn::to_device(logits_any, Device::cpu()).contiguous();
  const int64_t n = logits.size(0), c = logits.size(1);
  std::vector<int64_t> out(static_cast<size_t>(n));
  const float* p = logits.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t k = 1; k < c; ++k) {
      if (p[i * c + k] > p[i * c + best]) best = k;
    }
    out[static_cast<size_t>(i)] = best;
  }
  return out;
}

std::vector<int64_t> labels_of(const Tensor& y) {
  return nn::to_device(y, Device::cpu()).to_vector<int64_t>();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int64_t exp_index(SupervisedTemplate& s) { return s.experience() ? s.experience()->index : 0; }

}  // namespace

// ---------------------------------------------------------------- accuracy and loss

void AccuracyLossMetrics::Totals::add(SupervisedTemplate& s) {
  const std::vector<int64_t> pred = predictions(s.mb_output);
  const std::vector<int64_t> y = labels_of(s.mb_y);
  for (size_t i = 0; i < y.size(); ++i) correct += pred[i] == y[i];
  seen += static_cast<int64_t>(y.size());
  loss_sum += static_cast<double>(s.loss.item()) * static_cast<double>(y.size());
}

void AccuracyLossMetrics::after_training_iteration(SupervisedTemplate& s) {
  if (s.iteration_skipped()) return;  // a dropped minibatch (strategy/nonfinite_guard.h)
  Totals batch;
  batch.add(s);
  epoch_.correct += batch.correct;
  epoch_.seen += batch.seen;
  epoch_.loss_sum += batch.loss_sum;
  emit(s, metric_name("Top1_Acc_MB", false, s.stream_name()),
       static_cast<double>(batch.correct) / batch.seen);
  emit(s, metric_name("Loss_MB", false, s.stream_name()), batch.loss_sum / batch.seen);
}

void AccuracyLossMetrics::before_training_epoch(SupervisedTemplate&) { epoch_ = {}; }

void AccuracyLossMetrics::after_training_epoch(SupervisedTemplate& s) {
  if (epoch_.seen == 0) return;
  emit(s, metric_name("Top1_Acc_Epoch", false, s.stream_name()),
       static_cast<double>(epoch_.correct) / epoch_.seen);
  emit(s, metric_name("Loss_Epoch", false, s.stream_name()), epoch_.loss_sum / epoch_.seen);
}

void AccuracyLossMetrics::before_eval(SupervisedTemplate&) { stream_ = {}; }
void AccuracyLossMetrics::before_eval_exp(SupervisedTemplate&) { experience_ = {}; }

void AccuracyLossMetrics::after_eval_iteration(SupervisedTemplate& s) { experience_.add(s); }

void AccuracyLossMetrics::after_eval_exp(SupervisedTemplate& s) {
  stream_.correct += experience_.correct;
  stream_.seen += experience_.seen;
  stream_.loss_sum += experience_.loss_sum;
  if (experience_.seen == 0) return;
  emit(s, metric_name("Top1_Acc_Exp", true, s.stream_name(), exp_index(s)),
       static_cast<double>(experience_.correct) / experience_.seen);
  emit(s, metric_name("Loss_Exp", true, s.stream_name(), exp_index(s)),
       experience_.loss_sum / experience_.seen);
}

void AccuracyLossMetrics::after_eval(SupervisedTemplate& s) {
  if (stream_.seen == 0) return;
  emit(s, metric_name("Top1_Acc_Stream", true, s.stream_name()),
       static_cast<double>(stream_.correct) / stream_.seen);
  emit(s, metric_name("Loss_Stream", true, s.stream_name()), stream_.loss_sum / stream_.seen);
}

// ---------------------------------------------------------------- forgetting

void ForgettingMetrics::before_eval(SupervisedTemplate&) {
  sum_ = 0;
  count_ = 0;
}

void ForgettingMetrics::after_eval_exp(SupervisedTemplate& s) {
  const int64_t j = exp_index(s);
  const std::string name = metric_name("Top1_Acc_Exp", true, s.stream_name(), j);
  const MetricValue* now = s.evaluator()->last(name);
  if (now == nullptr) return;
  // The first accuracy measured after train experience j.
  const MetricValue* first = nullptr;
  for (const MetricValue& v : s.evaluator()->history()) {
    if (v.name == name && v.trained > j) {
      first = &v;
      break;
    }
  }
  if (first == nullptr || now->trained <= first->trained) return;
  const double forgetting = first->value - now->value;
  emit(s, metric_name("ExperienceForgetting", true, s.stream_name(), j), forgetting);
  sum_ += forgetting;
  ++count_;
}

void ForgettingMetrics::after_eval(SupervisedTemplate& s) {
  if (count_ == 0) return;
  emit(s, "StreamForgetting/eval_phase/" + s.stream_name(), sum_ / count_);
}

// ---------------------------------------------------------------- confusion matrix

void StreamConfusionMatrix::before_eval(SupervisedTemplate&) { counts_.clear(); }

void StreamConfusionMatrix::after_eval_iteration(SupervisedTemplate& s) {
  const size_t classes = static_cast<size_t>(s.mb_output.size(1));
  if (counts_.size() < classes) counts_.resize(classes);
  for (auto& row : counts_) row.resize(counts_.size(), 0.0);
  const std::vector<int64_t> pred = predictions(s.mb_output);
  const std::vector<int64_t> y = labels_of(s.mb_y);
  for (size_t i = 0; i < y.size(); ++i) {
    counts_[static_cast<size_t>(y[i])][static_cast<size_t>(pred[i])] += 1;
  }
}

void StreamConfusionMatrix::after_eval(SupervisedTemplate& s) {
  if (counts_.empty()) return;
  double total = 0;
  for (const auto& row : counts_) {
    for (double v : row) total += v;
  }
  emit(s, "ConfusionMatrix_Stream/eval_phase/" + s.stream_name(), total, counts_);
}

// ---------------------------------------------------------------- timing and memory

void TimingMetrics::before_training_epoch(SupervisedTemplate&) {
  epoch_start_ = std::chrono::steady_clock::now();
}
void TimingMetrics::after_training_epoch(SupervisedTemplate& s) {
  emit(s, metric_name("Time_Epoch", false, s.stream_name()), seconds_since(epoch_start_));
}
void TimingMetrics::before_training_exp(SupervisedTemplate&) {
  exp_start_ = std::chrono::steady_clock::now();
}
void TimingMetrics::after_training_exp(SupervisedTemplate& s) {
  emit(s, metric_name("Time_Exp", false, s.stream_name(), exp_index(s)), seconds_since(exp_start_));
}
void TimingMetrics::before_eval_exp(SupervisedTemplate&) {
  eval_start_ = std::chrono::steady_clock::now();
}
void TimingMetrics::after_eval_exp(SupervisedTemplate& s) {
  emit(s, metric_name("Time_Exp", true, s.stream_name(), exp_index(s)), seconds_since(eval_start_));
}

double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      double kib = 0;
      status >> kib;
      return kib / 1024.0;
    }
    std::getline(status, key);
  }
  return 0.0;
}

void reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  if (clear) clear << "5";  // resets VmHWM to the current RSS (Linux >= 4.0)
}

void PeakMemoryMetric::before_training_exp(SupervisedTemplate&) { reset_peak_rss(); }
void PeakMemoryMetric::after_training_exp(SupervisedTemplate& s) {
  emit(s, metric_name("MaxRAMUsage_Experience", false, s.stream_name(), exp_index(s)),
       peak_rss_mib());
}

}  // namespace ar1::strategy
