#pragma once
// Whether ops record an autograd graph. Thread-local, so a loader or evaluation thread can run
// without gradients while training goes on elsewhere.
namespace ar1 {

bool grad_enabled();
void set_grad_enabled(bool enabled);

// RAII: no graph is recorded while one is alive (evaluation, optimiser steps, frozen layers).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ar1
