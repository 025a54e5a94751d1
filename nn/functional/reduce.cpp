#include "core/autograd/node.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "nn/functional.h"
#include "nn/functional/output.h"

namespace ar1::nn {

namespace {

// d(scale * sum x)/dx = scale everywhere; saves only the input shape.
class SumBackward final : public autograd::Node {
 public:
  explicit SumBackward(float scale) : scale_(scale) {}
  std::string name() const override { return scale_ == 1.f ? "SumBackward" : "MeanBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Tensor g = grad_output.contiguous();
    // dx = scale * g, with g read on its device (no host round trip on a GPU).
    Tensor dx = detail::empty_on(input_shapes[0], g.device());
    kernels::fill(g.device(), detail::f32(dx), scale_, dx.numel());
    kernels::BinaryDesc times_g;
    times_g.inner = dx.numel(), times_g.b = kernels::Broadcast::scalar;
    times_g.op = kernels::BinaryOp::mul;
    kernels::binary_forward(g.device(), detail::f32(dx), detail::f32(dx), detail::f32(g), times_g);
    return {dx};
  }

 private:
  float scale_;
};

Tensor reduce(const Tensor& x_in, bool average, const char* op) {
  const Tensor x = detail::dense_f32(x_in, op, "input");
  const float scale = average ? 1.f / static_cast<float>(x.numel()) : 1.f;
  Tensor y = detail::empty_on({}, x.device());
  kernels::sum_all(x.device(), detail::f32(y), detail::f32(x), x.numel());
  if (average) kernels::scale(x.device(), detail::f32(y), detail::f32(y), scale, 1);
  if (autograd::needs_graph({&x})) autograd::record(std::make_shared<SumBackward>(scale), {&x}, y);
  return y;
}

}  // namespace

Tensor sum(const Tensor& x) { return reduce(x, false, "sum"); }
Tensor mean(const Tensor& x) { return reduce(x, true, "mean"); }

}  // namespace ar1::nn
