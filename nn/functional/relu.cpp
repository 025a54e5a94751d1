#include "core/autograd/node.h"
#include "kernels/elementwise.h"
#include "nn/functional.h"
#include "nn/functional/output.h"

namespace ar1::nn {

namespace {

class ReluBackward final : public autograd::Node {
 public:
  explicit ReluBackward(Tensor y) : y_(std::move(y)) {}  // the output is the mask
  std::string name() const override { return "ReluBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const bool channels_last = detail::stored_channels_last(y_);
    const Tensor g = detail::in_format(grad_output, channels_last);
    Tensor dx = detail::empty_in_format(g.shape(), g.device(), channels_last);
    kernels::relu_backward(g.device(), detail::f32(dx), detail::f32(g), detail::f32(y_),
                           g.numel());
    return {dx};
  }
  void release() override { y_ = {}; }

 private:
  Tensor y_;
};

}  // namespace

Tensor relu(const Tensor& x_in, const Tensor& out) {
  // Elementwise: the result keeps a channels-last input's memory order (not into out=).
  const Tensor x = out.defined() ? detail::dense_f32(x_in, "relu", "input")
                                 : detail::dense_f32_keep_format(x_in, "relu", "input");
  const bool channels_last = detail::stored_channels_last(x);
  const bool grad = autograd::needs_graph({&x});
  Tensor y = channels_last ? detail::empty_in_format(x.shape(), x.device(), true)
                           : detail::make_output(out, x.shape(), x.device(), grad, "relu");
  kernels::relu_forward(x.device(), detail::f32(y), detail::f32(x), x.numel());
  if (grad) autograd::record(std::make_shared<ReluBackward>(y.detach()), {&x}, y);
  return y;
}

}  // namespace ar1::nn
