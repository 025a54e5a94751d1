#include "nn/functional/saved_activation.h"

namespace ar1::nn::detail {

SavedActivation::SavedActivation(const Tensor& t) {
  const auto* r = dynamic_cast<const RecomputableOutput*>(t.grad_fn().get());
  if (r != nullptr && r->is_output(t)) {
    producer_ = t.grad_fn();
    recompute_ = r;
  } else {
    value_ = t.detach();
  }
}

Tensor SavedActivation::get() const {
  return recompute_ != nullptr ? recompute_->recompute_output() : value_;
}

void SavedActivation::reset() {
  value_ = {};
  producer_.reset();
  recompute_ = nullptr;
}

}  // namespace ar1::nn::detail
