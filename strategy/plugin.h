#pragma once
// Plugins: callbacks around every step of training and evaluation, as in Avalanche's
// SupervisedPlugin. Override the events you need; each receives the strategy, whose public
// state (mb_x, mb_y, mb_output, loss, experience, clock, ...) it may read and change.
//
// AR1_PLUGIN_EVENTS is the one list of events: Plugin declares them from it and
// EvaluationPlugin forwards each of them from it. To add an event, add it here (in the order
// the strategy fires it) and call notify(&Plugin::<event>) where it happens in template.cpp.
namespace ar1::strategy {

class SupervisedTemplate;

// X(event) for every event, training first, then evaluation.
#define AR1_PLUGIN_EVENTS(X)   \
  X(before_training)           \
  X(before_training_exp)       \
  X(before_training_epoch)     \
  X(before_training_iteration) \
  X(before_forward)            \
  X(after_forward)             \
  X(before_backward)           \
  X(after_backward)            \
  X(before_update)             \
  X(after_update)              \
  X(after_training_iteration)  \
  X(after_training_epoch)      \
  X(after_training_exp)        \
  X(after_training)            \
  X(before_eval)               \
  X(before_eval_exp)           \
  X(before_eval_iteration)     \
  X(before_eval_forward)       \
  X(after_eval_forward)        \
  X(after_eval_iteration)      \
  X(after_eval_exp)            \
  X(after_eval)

class Plugin {
 public:
  virtual ~Plugin() = default;

#define AR1_DECLARE_EVENT(event) virtual void event(SupervisedTemplate&) {}
  AR1_PLUGIN_EVENTS(AR1_DECLARE_EVENT)
#undef AR1_DECLARE_EVENT

  // True when this plugin's events inside a training step (before_forward to after_update) do
  // nothing but queue device work, or nothing at all. A strategy may then run the step as a
  // replayed CUDA graph (--cuda-graphs), where those events fire once, when it is captured.
  virtual bool graph_safe() const { return false; }
};

}  // namespace ar1::strategy
