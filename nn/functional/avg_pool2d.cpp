#include "core/autograd/node.h"
#include "kernels/pooling.h"
#include "nn/functional.h"
#include "nn/functional/output.h"

namespace ar1::nn {

namespace {

class AvgPool2dBackward final : public autograd::Node {
 public:
  explicit AvgPool2dBackward(const kernels::AvgPoolDesc& d) : desc_(d) {}  // shapes only
  std::string name() const override { return "AvgPool2dBackward"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Tensor g = grad_output.contiguous();
    Tensor dx = detail::empty_on(input_shapes[0], g.device());
    kernels::avg_pool2d_backward(g.device(), detail::f32(dx), detail::f32(g), desc_);
    return {dx};
  }

 private:
  kernels::AvgPoolDesc desc_;
};

Tensor pool(const Tensor& x_in, int64_t kh, int64_t kw, int64_t stride, const Tensor& out,
            const char* op) {
  const Tensor x = detail::dense_f32(x_in, op, "input");
  detail::check_rank(x, 4, op, "input [N, C, H, W]");
  AR1_CHECK(kh >= 1 && kw >= 1 && stride >= 1, "[", op, "] kernel ", kh, "x", kw, " stride ",
            stride, ": need kernel >= 1 and stride >= 1");
  kernels::AvgPoolDesc d{x.size(0), x.size(1), x.size(2), x.size(3), kh, kw, stride};
  AR1_CHECK(d.h >= kh && d.w >= kw, "[", op, "] kernel ", kh, "x", kw, " larger than input ",
            x.describe());
  const bool grad = autograd::needs_graph({&x});
  Tensor y = detail::make_output(out, {d.n, d.c, d.oh(), d.ow()}, x.device(), grad, op);
  kernels::avg_pool2d_forward(x.device(), detail::f32(y), detail::f32(x), d);
  if (grad) autograd::record(std::make_shared<AvgPool2dBackward>(d), {&x}, y);
  return y;
}

}  // namespace

Tensor avg_pool2d(const Tensor& x, const PoolParams& p, const Tensor& out) {
  return pool(x, p.kernel, p.kernel, p.stride, out, "avg_pool2d");
}

Tensor global_avg_pool2d(const Tensor& x, const Tensor& out) {
  check_defined(x, "global_avg_pool2d", "input");
  detail::check_rank(x, 4, "global_avg_pool2d", "input [N, C, H, W]");
  return pool(x, x.size(2), x.size(3), 1, out, "global_avg_pool2d");
}

}  // namespace ar1::nn
