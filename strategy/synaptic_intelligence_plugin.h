#pragma once
// Synaptic Intelligence as a plugin for any strategy: adds the penalty to the loss before
// backward, follows each update's trajectory, and refreshes the importances after each
// experience (strategy/synaptic_intelligence.h). Parameters of normalisation layers and of
// the output layer take no part (SPEC.md section 3, step 4).
#include <memory>
#include <string>

#include "strategy/plugin.h"
#include "strategy/synaptic_intelligence.h"

namespace ar1::strategy {

class SynapticIntelligencePlugin final : public Plugin {
 public:
  bool graph_safe() const override { return true; }  // queues device work only
  // `excluded_prefix`: parameters whose name starts with it are left out (the output layer).
  SynapticIntelligencePlugin(float lambda, std::string excluded_prefix = "output.");
  void before_training_exp(SupervisedTemplate& s) override;
  void before_backward(SupervisedTemplate& s) override;
  void before_update(SupervisedTemplate& s) override;
  void after_update(SupervisedTemplate& s) override;
  void after_training_exp(SupervisedTemplate& s) override;

  // Created on the first experience, from the strategy's model.
  SynapticIntelligence* si() { return si_.get(); }
  void ensure(SupervisedTemplate& s);

 private:
  float lambda_;
  std::string excluded_prefix_;
  std::unique_ptr<SynapticIntelligence> si_;
};

}  // namespace ar1::strategy
