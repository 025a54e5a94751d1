#pragma once
// Stochastic gradient descent with momentum and L2 weight decay, in PyTorch's convention:
//   d = g + weight_decay * w
//   v = d                  on a parameter's first step (momentum buffer starts as d)
//   v = momentum * v + d   afterwards
//   w -= lr * v            (w -= lr * d when momentum is 0)
// Parameters whose gradient is undefined (frozen, or unused this step) are skipped and keep
// their momentum buffer. CPU tensors only for now.
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace ar1::nn {

struct SGDOptions {
  double lr = 0.001;
  double momentum = 0.0;
  double weight_decay = 0.0;
};

class SGD {
 public:
  SGD(StateDict named_parameters, const SGDOptions& options);

  void step();
  // Drops every parameter's gradient.
  void zero_grad();
  // Forgets every momentum buffer (the next step starts from v = d again).
  void reset_momentum();

  double lr() const { return options_.lr; }
  void set_lr(double lr) { options_.lr = lr; }
  const SGDOptions& options() const { return options_; }
  const StateDict& parameters() const { return params_; }

  // The momentum buffers that exist, named after their parameters (copies).
  StateDict state() const;
  // Restores buffers saved by state(); a name that is not one of this optimiser's parameters,
  // or a shape that differs, is an error (nothing is changed then).
  void load_state(const StateDict& state);

 private:
  StateDict params_;
  std::vector<Tensor> velocity_;  // per parameter; undefined until its first step
  SGDOptions options_;
};

}  // namespace ar1::nn
