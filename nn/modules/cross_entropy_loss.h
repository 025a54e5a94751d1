#pragma once
// CrossEntropyLoss: mean over the batch of -log softmax(logits)[label].
#include "nn/functional.h"
#include "nn/module.h"

namespace ar1::nn {

class CrossEntropyLoss : public Module {
 public:
  std::string type_name() const override { return "CrossEntropyLoss"; }
  using Module::forward;
  // logits [N, classes] f32, labels [N] i64 -> 0-d tensor.
  Tensor forward(const Tensor& logits, const Tensor& labels) {
    return cross_entropy(logits, labels);
  }
  Tensor operator()(const Tensor& logits, const Tensor& labels) {
    return forward(logits, labels);
  }
};

}  // namespace ar1::nn
