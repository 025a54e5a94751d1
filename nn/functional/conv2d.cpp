#include "core/autograd/node.h"
#include "core/memory_format.h"
#include "kernels/conv2d.h"
#include "nn/functional.h"
#include "nn/functional/output.h"

namespace ar1::nn {

namespace {

class Conv2dBackward final : public autograd::Node {
 public:
  // x for the weight gradient, w for the input gradient.
  Conv2dBackward(Tensor x, Tensor w, const kernels::ConvDesc& desc)
      : x_(std::move(x)), w_(std::move(w)), desc_(desc) {}
  std::string name() const override { return "Conv2dBackward"; }

  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Tensor g = detail::in_format(grad_output, desc_.channels_last);
    Tensor dx, dw;
    if (next[0]) {
      dx = detail::empty_in_format(x_.shape(), g.device(), desc_.channels_last);
      kernels::conv2d_backward_data(g.device(), detail::f32(dx), detail::f32(g),
                                    detail::f32(w_), desc_);
    }
    if (next[1]) {
      dw = detail::empty_on(w_.shape(), g.device());
      kernels::conv2d_backward_weights(g.device(), detail::f32(dw), detail::f32(g),
                                       detail::f32(x_), desc_);
    }
    return {dx, dw};
  }
  void release() override {
    x_ = {};
    w_ = {};
  }

 private:
  Tensor x_, w_;
  kernels::ConvDesc desc_;
};

// Checks x and w against p and describes the convolution.
kernels::ConvDesc describe(const Tensor& x, const Tensor& w, const ConvParams& p,
                           bool channels_last, const char* op) {
  detail::check_rank(w, 4, op, "weight [C_out, C_in/groups, KH, KW]");
  check_same_device(x, w, op);
  AR1_CHECK(p.stride >= 1 && p.padding >= 0 && p.groups >= 1, "[", op, "] stride ", p.stride,
            ", padding ", p.padding, ", groups ", p.groups,
            ": need stride >= 1, padding >= 0, groups >= 1");
  kernels::ConvDesc d;
  d.n = x.size(0), d.c_in = x.size(1), d.h = x.size(2), d.w = x.size(3);
  d.c_out = w.size(0), d.kh = w.size(2), d.kw = w.size(3);
  d.stride = p.stride, d.pad = p.padding, d.groups = p.groups;
  d.channels_last = channels_last;
  AR1_CHECK(d.c_in % p.groups == 0 && d.c_out % p.groups == 0, "[", op, "] groups ", p.groups,
            " must divide input channels ", d.c_in, " and output channels ", d.c_out);
  AR1_CHECK(w.size(1) * p.groups == d.c_in, "[", op, "] weight ", w.describe(), " expects ",
            w.size(1) * p.groups, " input channels (", w.size(1), " x groups ", p.groups,
            "), input ", x.describe(), " has ", d.c_in);
  AR1_CHECK(d.h + 2 * d.pad >= d.kh && d.w + 2 * d.pad >= d.kw, "[", op, "] kernel ", d.kh, "x",
            d.kw, " larger than the padded input ", x.describe(), " (padding ", d.pad, ")");
  return d;
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& w_in, const ConvParams& p, const Tensor& out) {
  constexpr const char* op = "conv2d";
  const Tensor x_any = detail::dense_f32_keep_format(x_in, op, "input");
  const Tensor w = detail::dense_f32(w_in, op, "weight");
  detail::check_rank(x_any, 4, op, "input [N, C, H, W]");
  // CPU convolutions run channels-last (core/memory_format.h): oneDNN then needs no layout
  // reorders, and the result stays channels-last for the next layer, so a network converts
  // once, at its first convolution. A plain out= buffer keeps the plain path.
  const bool channels_last = x_any.device().is_cpu() && !out.defined();
  const Tensor x = detail::in_format(x_any, channels_last);
  const kernels::ConvDesc d = describe(x, w, p, channels_last, op);

  const bool grad = autograd::needs_graph({&x, &w});
  const Shape y_shape{d.n, d.c_out, d.oh(), d.ow()};
  Tensor y = out.defined() ? detail::make_output(out, y_shape, x.device(), grad, op)
                           : detail::empty_in_format(y_shape, x.device(), channels_last);
  kernels::conv2d_forward(x.device(), detail::f32(y), detail::f32(x), detail::f32(w), d);
  if (grad) {
    autograd::record(std::make_shared<Conv2dBackward>(x.detach(), w.detach(), d), {&x, &w}, y);
  }
  return y;
}

Tensor conv2d_affine(const Tensor& x_in, const Tensor& w_in, const Tensor& scale_in,
                     const Tensor& shift_in, const ConvParams& p, bool relu) {
  constexpr const char* op = "conv2d_affine";
  const Tensor x_any = detail::dense_f32_keep_format(x_in, op, "input");
  const Tensor w = detail::dense_f32(w_in, op, "weight");
  const Tensor scale = detail::dense_f32(scale_in, op, "scale");
  const Tensor shift = detail::dense_f32(shift_in, op, "shift");
  detail::check_rank(x_any, 4, op, "input [N, C, H, W]");
  AR1_CHECK(!autograd::needs_graph({&x_any, &w, &scale, &shift}), "[", op,
            "] records no gradient: run it under NoGradGuard on tensors that need none, or use "
            "conv2d followed by the affine map");
  AR1_CHECK(x_any.device().is_cpu(), "[", op, "] runs on the cpu only, got ", x_any.describe());
  const Tensor x = x_any.to_channels_last();
  kernels::ConvDesc d = describe(x, w, p, true, op);
  for (const Tensor* t : {&scale, &shift}) {
    AR1_CHECK(t->dim() == 1 && t->size(0) == d.c_out, "[", op, "] ",
              t == &scale ? "scale" : "shift", " must be [", d.c_out, "], got ", t->describe());
  }
  d.bias = true;
  d.relu = relu;
  // The scale folded into the weights: conv(x, w) * s = conv(x, w * s) per output channel.
  Tensor folded = Tensor::empty(w.shape());
  const int64_t per_out = w.numel() / d.c_out;
  const float* wp = w.data<float>();
  const float* sp = scale.data<float>();
  float* fp = folded.data<float>();
  for (int64_t o = 0; o < d.c_out; ++o) {
    for (int64_t i = 0; i < per_out; ++i) fp[o * per_out + i] = wp[o * per_out + i] * sp[o];
  }
  Tensor y = empty_channels_last({d.n, d.c_out, d.oh(), d.ow()});
  kernels::conv2d_forward(x.device(), detail::f32(y), detail::f32(x), detail::f32(folded), d,
                          detail::f32(shift));
  return y;
}

}  // namespace ar1::nn
