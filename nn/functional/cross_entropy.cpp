#include "core/autograd/node.h"
#include "kernels/cross_entropy.h"
#include "nn/functional.h"
#include "nn/functional/output.h"

namespace ar1::nn {

namespace {

class CrossEntropyBackward final : public autograd::Node {
 public:
  // The log-probabilities and labels are all the backward needs.
  CrossEntropyBackward(Tensor log_probs, Tensor labels, const kernels::CrossEntropyDesc& d)
      : log_probs_(std::move(log_probs)), labels_(std::move(labels)), desc_(d) {}
  std::string name() const override { return "CrossEntropyBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Device dev = log_probs_.device();
    // The scalar stays on the device (moved there if it came from the host): no host read.
    const Tensor g = grad_output.to(dev).contiguous();
    Tensor dlogits = detail::empty_on(log_probs_.shape(), dev);
    kernels::cross_entropy_backward(dev, detail::f32(dlogits), detail::f32(log_probs_),
                                    static_cast<const int64_t*>(labels_.raw_data()),
                                    detail::f32(g), desc_);
    return {dlogits, Tensor()};
  }
  void release() override {
    log_probs_ = {};
    labels_ = {};
  }

 private:
  Tensor log_probs_, labels_;
  kernels::CrossEntropyDesc desc_;
};

}  // namespace

Tensor cross_entropy(const Tensor& logits_in, const Tensor& labels_in) {
  constexpr const char* op = "cross_entropy";
  const Tensor logits = detail::dense_f32(logits_in, op, "logits");
  detail::check_rank(logits, 2, op, "logits [N, classes]");
  check_dtype(labels_in, DType::i64, op, "labels");
  const Tensor labels = labels_in.contiguous();
  check_same_device(logits, labels, op);
  AR1_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0), "[cross_entropy] labels ",
            labels.describe(), " must be [", logits.size(0), "] for logits ",
            logits.describe());
  const kernels::CrossEntropyDesc d{logits.size(0), logits.size(1)};
  Tensor loss = detail::empty_on({}, logits.device());
  Tensor log_probs = detail::empty_on(logits.shape(), logits.device());
  const int64_t bad = kernels::cross_entropy_forward(
      logits.device(), detail::f32(loss), detail::f32(log_probs), detail::f32(logits),
      static_cast<const int64_t*>(labels.raw_data()), d);
  if (bad >= 0) {
    const Tensor cpu_labels = labels.to(Device::cpu());
    AR1_FAIL("[cross_entropy] label ", cpu_labels.data<int64_t>()[bad], " at row ", bad,
             " is outside [0, ", d.classes, ") for logits ", logits.describe());
  }
  if (autograd::needs_graph({&logits})) {
    autograd::record(std::make_shared<CrossEntropyBackward>(log_probs, labels.detach(), d),
                     {&logits, &labels}, loss);
  }
  return loss;
}

}  // namespace ar1::nn
