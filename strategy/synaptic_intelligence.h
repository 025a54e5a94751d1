#pragma once
// Synaptic Intelligence as AR1 uses it (SPEC.md section 3, step 4 and "After experience" 3):
// a per-weight importance learnt from each experience's optimisation trajectory, and a
// quadratic penalty (lambda / 2) * sum imp * (theta - theta*)^2 pulling weights back towards
// their values at the start of the experience.
//
// Works on any list of (name, parameter); the caller chooses which parameters take part (AR1
// leaves out output.weight and the normalisation parameters). Call order per experience:
// before_experience(); per iteration penalty() into the loss, before_update() and
// after_update() around the optimiser step; after_experience().
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace ar1::strategy {

class SynapticIntelligence {
 public:
  using Params = std::vector<std::pair<std::string, Tensor>>;

  // eps guards the division by the squared displacement; importances are capped at
  // max_importance.
  SynapticIntelligence(float lambda, Params params, double eps = 1e-7,
                       double max_importance = 1e-3);

  float lambda() const { return lambda_; }
  // theta* = theta, trajectory = 0.
  void before_experience();
  // Remembers theta before the optimiser step.
  void before_update();
  // trajectory += grad * (theta_after - theta_before).
  void after_update();
  // cum += traj / ((theta - theta*)^2 + eps); imp = min(-cum, max_importance); theta* = theta.
  void after_experience();
  // (lambda / 2) * sum imp * (theta - theta*)^2, differentiable in theta; a 0-d tensor.
  Tensor penalty() const;

  const std::vector<Tensor>& importance() const { return importance_; }

  // Checkpoint state: theta*, trajectory, cumulative and importance per parameter.
  std::vector<std::pair<std::string, Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, Tensor>>& state);

 private:
  float lambda_;
  double eps_, max_importance_;
  Params params_;
  std::vector<Tensor> theta_star_, trajectory_, cumulative_, importance_, before_;
};

}  // namespace ar1::strategy
