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
    const Tensor g = grad_output.contiguous();
    Tensor dx = detail::empty_on(g.shape(), g.device());
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
  const Tensor x = detail::dense_f32(x_in, "relu", "input");
  const bool grad = autograd::needs_graph({&x});
  Tensor y = detail::make_output(out, x.shape(), x.device(), grad, "relu");
  kernels::relu_forward(x.device(), detail::f32(y), detail::f32(x), x.numel());
  if (grad) autograd::record(std::make_shared<ReluBackward>(y.detach()), {&x}, y);
  return y;
}

}  // namespace ar1::nn
