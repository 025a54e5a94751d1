#pragma once
// Numerical faults: a NaN or an infinity in the loss, a parameter, a parameter's gradient or a
// Batch Renormalization statistic.
//   stop (default): training ends with NonFiniteError naming the experience, epoch, iteration
//        and tensor; the CLI exits with status 3 and the checkpoint of the last finished
//        experience stays as it was. Checked after each iteration, outside the step, so a step
//        may still be a CUDA graph.
//   skip: the minibatch is dropped before the update (no SGD step, no SI update, the Batch
//        Renormalization statistics its forward moved are put back, its loss and accuracy are
//        left out of the metrics) and counted: NonFiniteSkipped_Exp per experience. Checked
//        inside the step, so the step runs eagerly.
// Per iteration, one pass over the trainable parameters and their gradients (the only ones an
// update can spoil) and the statistics of the Batch Renormalization layers in training mode.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "nn/modules/batch_renorm2d.h"
#include "strategy/plugin.h"

namespace ar1::strategy {

enum class NonFinitePolicy { stop, skip };
NonFinitePolicy parse_nonfinite_policy(const std::string& name);  // "stop", "skip"

struct NonFiniteError : Error {
  using Error::Error;
};

class NonFiniteGuard final : public Plugin {
 public:
  explicit NonFiniteGuard(NonFinitePolicy policy) : policy_(policy) {}
  bool graph_safe() const override { return policy_ == NonFinitePolicy::stop; }

  void before_training_exp(SupervisedTemplate& s) override;
  void before_forward(SupervisedTemplate& s) override;
  void after_backward(SupervisedTemplate& s) override;
  void after_training_iteration(SupervisedTemplate& s) override;
  void after_training_exp(SupervisedTemplate& s) override;

  NonFinitePolicy policy() const { return policy_; }
  // Minibatches skipped in the current (or last) experience, and in the whole run.
  int64_t skipped_in_experience() const { return skipped_exp_; }
  int64_t skipped_total() const { return skipped_total_; }

 private:
  // "loss", "gradient of <param>", "<param>" or "<layer>.running_mean": the first tensor with
  // a NaN or an infinity ("" when none); gradients only where `gradients`.
  std::string first_nonfinite(SupervisedTemplate& s, bool gradients) const;
  [[noreturn]] void fail(SupervisedTemplate& s, const std::string& tensor) const;

  NonFinitePolicy policy_;
  int64_t skipped_exp_ = 0, skipped_total_ = 0;
  // skip: the running statistics of the Batch Renormalization layers in training mode as they
  // were before the forward, and the tensors they are restored into.
  std::vector<std::pair<Tensor, Tensor>> saved_statistics_;
  // Gathered per experience (freezing happens before it starts): what is watched.
  std::vector<std::pair<std::string, Tensor>> trainable_;
  std::vector<std::pair<std::string, nn::BatchReNorm2d*>> norms_;
};

// True when every element of the f32 tensor (on any device) is finite.
bool all_finite(const Tensor& t);

}  // namespace ar1::strategy
