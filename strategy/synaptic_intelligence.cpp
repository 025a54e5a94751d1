#include "strategy/synaptic_intelligence.h"

#include <algorithm>

#include "core/grad_mode.h"
#include "kernels/synaptic_intelligence.h"
#include "nn/functional.h"

namespace ar1::strategy {

namespace {
float* f32(const Tensor& t) { return static_cast<float*>(t.raw_data()); }
}  // namespace

SynapticIntelligence::SynapticIntelligence(float lambda, Params params, double eps,
                                           double max_importance)
    : lambda_(lambda), eps_(eps), max_importance_(max_importance), params_(std::move(params)) {
  for (const auto& [name, p] : params_) {
    check_dtype(p, DType::f32, "synaptic intelligence", name.c_str());
    AR1_CHECK(p.is_contiguous(), "[synaptic intelligence] parameter ", name,
              " must be contiguous");
    theta_star_.push_back(p.detach().clone());
    trajectory_.push_back(Tensor::zeros(p.shape(), DType::f32, p.device()));
    cumulative_.push_back(Tensor::zeros(p.shape(), DType::f32, p.device()));
    importance_.push_back(Tensor::zeros(p.shape(), DType::f32, p.device()));
    before_.push_back(Tensor::zeros(p.shape(), DType::f32, p.device()));
  }
}

void SynapticIntelligence::before_experience() {
  for (size_t i = 0; i < params_.size(); ++i) {
    // The state follows its parameter (made before a model moved to a GPU, or loaded on the
    // cpu from a checkpoint).
    const Device dev = params_[i].second.device();
    for (Tensor* t : {&cumulative_[i], &importance_[i], &before_[i]}) *t = t->to(dev);
    theta_star_[i] = params_[i].second.detach().clone();
    const Tensor& p = params_[i].second;
    trajectory_[i] = Tensor::zeros(p.shape(), DType::f32, p.device());
  }
}

void SynapticIntelligence::before_update() {
  for (size_t i = 0; i < params_.size(); ++i) before_[i] = params_[i].second.detach().clone();
}

void SynapticIntelligence::after_update() {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    const Tensor g = p.grad();
    if (!g.defined()) continue;  // frozen or unused this step
    const Tensor gc = g.contiguous();
    kernels::si_accumulate(p.device(), f32(trajectory_[i]), f32(gc), f32(p), f32(before_[i]),
                           p.numel());
  }
}

void SynapticIntelligence::after_experience() {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    const kernels::SiConsolidateDesc d{p.numel(), eps_, max_importance_};
    kernels::si_consolidate(p.device(), f32(cumulative_[i]), f32(importance_[i]), f32(p),
                            f32(theta_star_[i]), f32(trajectory_[i]), d);
    theta_star_[i] = p.detach().clone();
  }
}

Tensor SynapticIntelligence::penalty() const {
  Tensor total;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor d = nn::sub(params_[i].second, theta_star_[i]);
    const Tensor term = nn::sum(nn::mul(nn::mul(d, d), importance_[i]));
    total = total.defined() ? nn::add(total, term) : term;
  }
  // Scalars on the parameters' device: the penalty joins a loss there (and a fill is a kernel,
  // which a CUDA graph can hold, where a copy from the host is not).
  const Device device = params_.empty() ? Device::cpu() : params_.front().second.device();
  if (!total.defined()) return Tensor::full({}, 0.f, device);
  return nn::mul(total, Tensor::full({}, lambda_ / 2.f, device));
}

std::vector<std::pair<std::string, Tensor>> SynapticIntelligence::state() const {
  std::vector<std::pair<std::string, Tensor>> s;
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& n = params_[i].first;
    s.emplace_back("si.theta_star." + n, theta_star_[i]);
    s.emplace_back("si.trajectory." + n, trajectory_[i]);
    s.emplace_back("si.cumulative." + n, cumulative_[i]);
    s.emplace_back("si.importance." + n, importance_[i]);
  }
  return s;
}

void SynapticIntelligence::load_state(const std::vector<std::pair<std::string, Tensor>>& state) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const std::string& n = params_[i].first;
    for (auto [prefix, target] :
         {std::pair{"si.theta_star.", &theta_star_[i]}, std::pair{"si.trajectory.", &trajectory_[i]},
          std::pair{"si.cumulative.", &cumulative_[i]}, std::pair{"si.importance.", &importance_[i]}}) {
      bool found = false;
      for (const auto& [name, t] : state) {
        if (name != prefix + n) continue;
        AR1_CHECK(t.shape() == params_[i].second.shape(), "[synaptic intelligence] checkpoint ",
                  name, " is ", t.describe(), ", parameter is ", params_[i].second.describe());
        *target = t.to(DType::f32).to(params_[i].second.device()).clone();
        found = true;
      }
      AR1_CHECK(found, "[synaptic intelligence] checkpoint lacks ", prefix, n);
    }
  }
}

}  // namespace ar1::strategy
