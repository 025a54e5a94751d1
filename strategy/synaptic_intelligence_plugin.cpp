#include "strategy/synaptic_intelligence_plugin.h"

#include "nn/functional.h"
#include "nn/modules/batch_renorm2d.h"
#include "strategy/template.h"

namespace ar1::strategy {

SynapticIntelligencePlugin::SynapticIntelligencePlugin(float lambda, std::string excluded_prefix)
    : lambda_(lambda), excluded_prefix_(std::move(excluded_prefix)) {}

void SynapticIntelligencePlugin::ensure(SupervisedTemplate& s) {
  if (si_) return;
  // Normalisation parameters: those of every BatchReNorm2d module.
  std::vector<std::string> norm_prefixes;
  for (auto& [name, m] : s.model().named_modules()) {
    if (dynamic_cast<nn::BatchReNorm2d*>(m) != nullptr) norm_prefixes.push_back(name + ".");
  }
  SynapticIntelligence::Params params;
  for (auto& [name, p] : s.model().named_parameters()) {
    if (name.rfind(excluded_prefix_, 0) == 0) continue;
    bool norm = false;
    for (const auto& prefix : norm_prefixes) norm = norm || name.rfind(prefix, 0) == 0;
    if (!norm) params.emplace_back(name, p);
  }
  si_ = std::make_unique<SynapticIntelligence>(lambda_, std::move(params));
}

void SynapticIntelligencePlugin::before_training_exp(SupervisedTemplate& s) {
  ensure(s);
  si_->before_experience();
}

void SynapticIntelligencePlugin::before_backward(SupervisedTemplate& s) {
  s.loss = nn::add(s.loss, si_->penalty());
}

void SynapticIntelligencePlugin::before_update(SupervisedTemplate&) { si_->before_update(); }
void SynapticIntelligencePlugin::after_update(SupervisedTemplate&) { si_->after_update(); }
void SynapticIntelligencePlugin::after_training_exp(SupervisedTemplate&) {
  si_->after_experience();
}

}  // namespace ar1::strategy
