#include "strategy/nonfinite_guard.h"

#include <cmath>
#include <cstdint>

#include "kernels/device.h"
#include "kernels/reduce.h"
#include "nn/models/mobilenet_v1.h"
#include "strategy/metrics/evaluation_plugin.h"
#include "strategy/template.h"

namespace ar1::strategy {

NonFinitePolicy parse_nonfinite_policy(const std::string& name) {
  if (name == "stop") return NonFinitePolicy::stop;
  if (name == "skip") return NonFinitePolicy::skip;
  AR1_FAIL("[nonfinite] unknown policy '", name, "'; use stop or skip");
}

bool all_finite(const Tensor& t) {
  if (!t.defined() || t.dtype() != DType::f32 || t.numel() == 0) return true;
  const Tensor flat = t.detach().contiguous();
  return !kernels::any_nonfinite(flat.device(), static_cast<const float*>(flat.raw_data()),
                                 flat.numel());
}

std::string NonFiniteGuard::first_nonfinite(SupervisedTemplate& s, bool gradients) const {
  if (s.loss.defined() && !all_finite(s.loss)) return "loss";
  for (const auto& [name, p] : trainable_) {
    if (gradients && !all_finite(p.grad())) return "gradient of " + name;
    if (!all_finite(p)) return name;
  }
  for (const auto& [name, bn] : norms_) {
    if (!bn->is_training()) continue;  // evaluation mode moves no statistic
    for (const auto& [buffer, t] : bn->named_buffers()) {
      if (!all_finite(t)) return name + "." + buffer;
    }
  }
  return "";
}

void NonFiniteGuard::fail(SupervisedTemplate& s, const std::string& tensor) const {
  const Clock& c = s.clock();
  // Called after the iteration: its clocks have moved on; iterations count from 0 per epoch.
  const int64_t exp = s.experience() != nullptr ? s.experience()->index : c.train_exp_counter;
  throw NonFiniteError(detail::concat(
      "[nonfinite] a NaN or infinity in ", tensor, " at experience ", exp, ", epoch ",
      c.train_exp_epochs, ", iteration ", c.train_epoch_iterations - 1,
      ": training stopped (the checkpoint of the last finished experience is kept); lower the "
      "learning rate, or pass --on-nonfinite skip to drop such minibatches"));
}

void NonFiniteGuard::before_training_exp(SupervisedTemplate& s) {
  skipped_exp_ = 0;
  trainable_.clear();
  for (const auto& [name, p] : s.model().named_parameters()) {
    if (p.requires_grad()) trainable_.emplace_back(name, p);
  }
  norms_ = nn::batch_renorm_layers(s.model());
}

void NonFiniteGuard::before_forward(SupervisedTemplate&) {
  if (policy_ != NonFinitePolicy::skip) return;
  saved_statistics_.clear();
  for (const auto& [name, bn] : norms_) {
    if (!bn->is_training()) continue;  // evaluation mode moves nothing
    for (const auto& [buffer, t] : bn->named_buffers()) saved_statistics_.emplace_back(t, t.clone());
  }
}

void NonFiniteGuard::after_backward(SupervisedTemplate& s) {
  if (policy_ != NonFinitePolicy::skip) return;
  if (first_nonfinite(s, true).empty()) return;
  for (auto& [live, saved] : saved_statistics_) {  // in place: the layers keep their tensors
    kernels::copy_bytes(live.raw_data(), live.device(), saved.raw_data(), saved.device(),
                        static_cast<size_t>(live.numel()) * sizeof(float));
  }
  s.skip_update();
  ++skipped_exp_;
  ++skipped_total_;
}

void NonFiniteGuard::after_training_iteration(SupervisedTemplate& s) {
  if (policy_ != NonFinitePolicy::stop) return;
  const std::string bad = first_nonfinite(s, true);
  if (!bad.empty()) fail(s, bad);
}

void NonFiniteGuard::after_training_exp(SupervisedTemplate& s) {
  if (policy_ != NonFinitePolicy::skip || s.evaluator() == nullptr) return;
  const int64_t exp = s.experience() != nullptr ? s.experience()->index : 0;
  MetricValue v;
  v.name = metric_name("NonFiniteSkipped_Exp", false, "train_stream", exp);
  v.value = static_cast<double>(skipped_exp_);
  v.x = s.clock().train_iterations;
  v.trained = s.clock().train_exp_counter;
  s.evaluator()->record(v);
}

}  // namespace ar1::strategy
