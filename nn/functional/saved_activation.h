#pragma once
// What a backward keeps of an activation it reads again: the tensor itself, or, when the op
// that produced it can compute it again bit for bit from what that op keeps anyway, a handle
// to that op. Batch Renormalization keeps x and its affine map for its own backward; a
// convolution after it then saves the BatchReNorm node instead of its output, so that output
// is freed as soon as the forward moves on (a third of a training step's activation memory)
// and is recomputed, one layer at a time, in the backward.
#include <memory>

#include "core/autograd/node.h"
#include "core/tensor.h"

namespace ar1::nn::detail {

// Implemented by nodes whose output can be recomputed from their saved state.
class RecomputableOutput {
 public:
  // Whether t is this node's output itself (not a view or a copy of it).
  virtual bool is_output(const Tensor& t) const = 0;
  // The output's values as the forward computed them; valid until the node is released.
  virtual Tensor recompute_output() const = 0;

 protected:
  ~RecomputableOutput() = default;
};

class SavedActivation {
 public:
  SavedActivation() = default;
  // Keeps t detached, or its producer when that can recompute it.
  explicit SavedActivation(const Tensor& t);
  // The activation: the kept tensor, or a fresh one recomputed by the producer.
  Tensor get() const;
  // Whether get() recomputes (for tests).
  bool recomputes() const { return producer_ != nullptr; }
  void reset();

 private:
  Tensor value_;
  std::shared_ptr<autograd::Node> producer_;
  const RecomputableOutput* recompute_ = nullptr;
};

}  // namespace ar1::nn::detail
