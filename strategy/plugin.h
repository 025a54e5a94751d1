#pragma once
// Plugins: callbacks around every step of training and evaluation, as in Avalanche's
// SupervisedPlugin. Override the events you need; each receives the strategy, whose public
// state (mb_x, mb_y, mb_output, loss, experience, clock, ...) it may read and change.
namespace ar1::strategy {

class SupervisedTemplate;

class Plugin {
 public:
  virtual ~Plugin() = default;

  virtual void before_training(SupervisedTemplate&) {}
  virtual void before_training_exp(SupervisedTemplate&) {}
  virtual void before_training_epoch(SupervisedTemplate&) {}
  virtual void before_training_iteration(SupervisedTemplate&) {}
  virtual void before_forward(SupervisedTemplate&) {}
  virtual void after_forward(SupervisedTemplate&) {}
  virtual void before_backward(SupervisedTemplate&) {}
  virtual void after_backward(SupervisedTemplate&) {}
  virtual void before_update(SupervisedTemplate&) {}
  virtual void after_update(SupervisedTemplate&) {}
  virtual void after_training_iteration(SupervisedTemplate&) {}
  virtual void after_training_epoch(SupervisedTemplate&) {}
  virtual void after_training_exp(SupervisedTemplate&) {}
  virtual void after_training(SupervisedTemplate&) {}

  virtual void before_eval(SupervisedTemplate&) {}
  virtual void before_eval_exp(SupervisedTemplate&) {}
  virtual void before_eval_iteration(SupervisedTemplate&) {}
  virtual void before_eval_forward(SupervisedTemplate&) {}
  virtual void after_eval_forward(SupervisedTemplate&) {}
  virtual void after_eval_iteration(SupervisedTemplate&) {}
  virtual void after_eval_exp(SupervisedTemplate&) {}
  virtual void after_eval(SupervisedTemplate&) {}
};

}  // namespace ar1::strategy
