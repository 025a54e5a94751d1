#include "strategy/loggers/summary_logger.h"

#include <cmath>
#include <cstdlib>

#include "strategy/template.h"

namespace ar1::strategy {

MetricNameParts parse_metric_name(const std::string& name) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (true) {
    const size_t slash = name.find('/', begin);
    parts.push_back(name.substr(begin, slash - begin));
    if (slash == std::string::npos) break;
    begin = slash + 1;
  }
  MetricNameParts out;
  out.base = parts[0];
  if (parts.size() > 1) out.phase = parts[1];
  if (parts.size() > 2) out.stream = parts[2];
  const std::string& tail = parts.back();
  if (parts.size() > 3 && tail.size() > 3 && tail.compare(0, 3, "Exp") == 0) {
    char* end = nullptr;
    const long long e = std::strtoll(tail.c_str() + 3, &end, 10);
    if (end != nullptr && *end == '\0') out.experience = e;
  }
  return out;
}

void SummaryLogger::log(const MetricValue& value) {
  if (!value.matrix.empty()) return;
  const MetricNameParts key = parse_metric_name(value.name);
  if (key.phase == "train_phase") {
    if (key.base == "Top1_Acc_MB") mb_accuracy_ = value.value;
    else if (key.base == "Loss_MB") mb_loss_ = value.value;
    else if (key.base == "Top1_Acc_Epoch") epoch_.accuracy = value.value;
    else if (key.base == "Loss_Epoch") epoch_.loss = value.value;
    else if (key.base == "Time_Epoch") epoch_.seconds = value.value;
    return;
  }
  if (key.phase != "eval_phase" || !in_eval_) return;
  if (key.experience >= 0) {
    if (key.base == "Top1_Acc_Exp") row(key.experience).accuracy = value.value;
    else if (key.base == "Loss_Exp") row(key.experience).loss = value.value;
    else if (key.base == "ExperienceForgetting") row(key.experience).forgetting = value.value;
    return;
  }
  if (key.base == "Top1_Acc_Stream") eval_.accuracy = value.value;
  else if (key.base == "Loss_Stream") eval_.loss = value.value;
  else if (key.base == "StreamForgetting") eval_.forgetting = value.value;
}

ExperienceResult& SummaryLogger::row(int64_t experience) {
  for (auto& r : eval_.experiences) {
    if (r.experience == experience) return r;
  }
  eval_.experiences.push_back({});
  eval_.experiences.back().experience = experience;
  return eval_.experiences.back();
}

void SummaryLogger::before_training_epoch(SupervisedTemplate& s) {
  epoch_start_ = std::chrono::steady_clock::now();
  progress_ = {};
  progress_.training_exp = s.clock().train_exp_counter;
  progress_.epoch = s.clock().train_exp_epochs;
  progress_.epochs = s.options().train_epochs;
  progress_.iterations = s.dataloader() != nullptr ? s.dataloader()->num_batches() : 0;
  epoch_ = {};
  epoch_.training_exp = progress_.training_exp;
  epoch_.epoch = progress_.epoch;
  epoch_.epochs = progress_.epochs;
  correct_ = loss_sum_ = 0;
  rows_ = 0;
  on_epoch_start(progress_);
}

void SummaryLogger::after_training_iteration(SupervisedTemplate& s) {
  // The metrics ran before this event and logged this minibatch's Top1_Acc_MB and Loss_MB;
  // weight them by the rows they covered (mb_y, replayed rows included, as the metrics count).
  const int64_t n = s.mb_y.defined() ? s.mb_y.size(0) : 0;
  if (!std::isnan(mb_accuracy_) && !std::isnan(mb_loss_) && n > 0) {
    correct_ += mb_accuracy_ * static_cast<double>(n);
    loss_sum_ += mb_loss_ * static_cast<double>(n);
    rows_ += n;
    progress_.accuracy = correct_ / static_cast<double>(rows_);
    progress_.loss = loss_sum_ / static_cast<double>(rows_);
  }
  mb_accuracy_ = mb_loss_ = kMissing;
  progress_.iteration = s.clock().train_epoch_iterations;
  progress_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  on_iteration(progress_);
}

void SummaryLogger::after_training_epoch(SupervisedTemplate&) {
  if (std::isnan(epoch_.seconds)) {
    epoch_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  }
  // Without AccuracyLossMetrics' epoch values, fall back to the running ones.
  if (std::isnan(epoch_.accuracy)) epoch_.accuracy = progress_.accuracy;
  if (std::isnan(epoch_.loss)) epoch_.loss = progress_.loss;
  on_epoch(epoch_);
}

void SummaryLogger::before_eval(SupervisedTemplate& s) {
  in_eval_ = true;
  eval_ = {};
  eval_.stream = s.stream_name();
  eval_.training_exp = s.clock().train_exp_counter - 1;
}

void SummaryLogger::after_eval(SupervisedTemplate&) {
  in_eval_ = false;
  on_eval(eval_);
}

}  // namespace ar1::strategy
