#include "core/autograd/node.h"
#include "core/memory_format.h"
#include "kernels/batch_renorm.h"
#include "kernels/conv2d.h"
#include "kernels/device.h"
#include "kernels/elementwise.h"
#include "kernels/precision.h"
#include "nn/functional.h"
#include "nn/functional/output.h"
#include "nn/functional/saved_activation.h"

namespace ar1::nn {

namespace {

class Conv2dBackward final : public autograd::Node {
 public:
  // x for the weight gradient (recomputed by its producer where it can: a BatchReNorm's output
  // is not kept twice), w for the input gradient.
  Conv2dBackward(detail::SavedActivation x, Tensor w, const kernels::ConvDesc& desc)
      : x_(std::move(x)), w_(std::move(w)), desc_(desc) {}
  std::string name() const override { return "Conv2dBackward"; }

  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Tensor g = detail::in_format(grad_output, desc_.channels_last);
    Tensor dx, dw;
    if (next[0]) {
      dx = detail::empty_in_format({desc_.n, desc_.c_in, desc_.h, desc_.w}, g.device(),
                                   desc_.channels_last);
      kernels::conv2d_backward_data(g.device(), detail::f32(dx), detail::f32(g),
                                    detail::f32(w_), desc_);
    }
    if (next[1]) {
      dw = detail::empty_on(w_.shape(), g.device());
      const Tensor x = x_.get();
      kernels::conv2d_backward_weights(g.device(), detail::f32(dw), detail::f32(g),
                                       detail::f32(x), desc_);
    }
    return {dx, dw};
  }
  void release() override {
    x_.reset();
    w_ = {};
  }

 private:
  detail::SavedActivation x_;
  Tensor w_;
  kernels::ConvDesc desc_;
};

// conv2d_batch_renorm_eval: y = relu?(conv(x, w s) + b), s = gamma / sigma, b = beta - s mu.
// With gm the ReLU-masked gradient and dw' = dL/d(w s): dx = conv_bwd_data(gm, w s),
// dw = dw' s, ds = sum_i dw'_i w_i per output channel, db = sum gm, so dgamma = (ds - db mu) /
// sigma and dbeta = db. Only x, the folded weights and y are kept: not the convolution's own
// output, which the separate BatchReNorm would have saved.
class Conv2dBatchReNormEvalBackward final : public autograd::Node {
 public:
  Conv2dBatchReNormEvalBackward(Tensor x, Tensor w, Tensor folded, Tensor scale, Tensor mean,
                                Tensor std, Tensor y, const kernels::ConvDesc& desc)
      : x_(std::move(x)), w_(std::move(w)), folded_(std::move(folded)),
        scale_(std::move(scale)), mean_(std::move(mean)), std_(std::move(std)),
        y_(std::move(y)), desc_(desc) {}
  std::string name() const override { return "Conv2dBatchReNormEvalBackward"; }

  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Tensor g = detail::in_format(grad_output, desc_.channels_last);
    const Device dev = g.device();
    const int64_t c = desc_.c_out;
    kernels::ConvDesc plain = desc_;
    plain.bias = plain.relu = false;
    Tensor dx, dfolded, dw, dgamma, dbeta;
    if (next[0]) dx = detail::empty_in_format(x_.shape(), dev, desc_.channels_last);
    if (next[1] || next[2]) dfolded = detail::empty_on(w_.shape(), dev);
    Tensor db = detail::empty_on({c}, dev);
    auto ptr = [](const Tensor& t) { return t.defined() ? detail::f32(t) : nullptr; };
    // With the ReLU, one fused pass where a kernel has it (the same bits); else the steps.
    const bool fused =
        desc_.relu && kernels::conv2d_relu_backward(dev, ptr(dx), ptr(dfolded), detail::f32(db),
                                                    detail::f32(g), detail::f32(y_),
                                                    detail::f32(x_), detail::f32(folded_), plain);
    if (!fused) {
      // gm and db: Batch Renormalization's evaluation backward with unit parameters is exactly
      // the masked gradient and its per-channel sum.
      kernels::BatchReNormDesc bd;
      bd.n = desc_.n, bd.c = c, bd.hw = desc_.oh() * desc_.ow();
      bd.training = false, bd.relu = desc_.relu, bd.channels_last = desc_.channels_last;
      const Tensor ones = Tensor::full({c}, 1.f, dev);
      const Tensor zeros = Tensor::zeros({c}, DType::f32, dev);
      Tensor gm = detail::empty_in_format(g.shape(), dev, desc_.channels_last);
      Tensor unused = detail::empty_on({c}, dev);
      kernels::batch_renorm_backward(dev, detail::f32(gm), detail::f32(unused),
                                     detail::f32(db), detail::f32(g), detail::f32(y_),
                                     detail::f32(y_), detail::f32(ones), detail::f32(zeros),
                                     detail::f32(ones), detail::f32(ones), detail::f32(zeros),
                                     bd);
      if (dx.defined()) {
        kernels::conv2d_backward_data(dev, detail::f32(dx), detail::f32(gm),
                                      detail::f32(folded_), plain);
      }
      if (dfolded.defined()) {
        kernels::conv2d_backward_weights(dev, detail::f32(dfolded), detail::f32(gm),
                                         detail::f32(x_), plain);
      }
    }
    if (dfolded.defined()) {
      if (next[1]) dw = detail::empty_on(w_.shape(), dev);
      if (next[2]) dgamma = detail::empty_on({c}, dev);
      kernels::batch_renorm_folded_grads(dev, ptr(dw), ptr(dgamma), detail::f32(dfolded),
                                         detail::f32(w_), detail::f32(scale_), detail::f32(db),
                                         detail::f32(mean_), detail::f32(std_),
                                         {c, w_.numel() / c});
    }
    if (next[3]) dbeta = db;
    return {dx, dw, dgamma, dbeta};
  }
  void release() override { x_ = w_ = folded_ = scale_ = mean_ = std_ = y_ = {}; }

 private:
  Tensor x_, w_, folded_, scale_, mean_, std_, y_;
  kernels::ConvDesc desc_;
};

// Whether `device`'s convolutions want channels-last activations (kernels/device.h).
bool runs_channels_last(Device device) {
  return kernels::preferred_activation_layout(device) == kernels::ActivationLayout::channels_last;
}

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
  d.bf16 = kernels::conv_precision() == kernels::Precision::bf16;
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
  // Convolutions run in the layout their device's kernels want (kernels/device.h): channels-last
  // on the CPU, where oneDNN then needs no reorders and the result stays channels-last for the
  // next layer, so a network converts once, at its first convolution. A plain out= buffer
  // keeps the plain path.
  const bool channels_last = !out.defined() && runs_channels_last(x_any.device());
  const Tensor x = detail::in_format(x_any, channels_last);
  const kernels::ConvDesc d = describe(x, w, p, channels_last, op);

  const bool grad = autograd::needs_graph({&x, &w});
  const Shape y_shape{d.n, d.c_out, d.oh(), d.ow()};
  Tensor y = out.defined() ? detail::make_output(out, y_shape, x.device(), grad, op)
                           : detail::empty_in_format(y_shape, x.device(), channels_last);
  kernels::conv2d_forward(x.device(), detail::f32(y), detail::f32(x), detail::f32(w), d);
  if (grad) {
    // The input is kept only where the weight gradient will read it.
    detail::SavedActivation saved_x = w.requires_grad() ? detail::SavedActivation(x)
                                                        : detail::SavedActivation();
    autograd::record(std::make_shared<Conv2dBackward>(std::move(saved_x), w.detach(), d),
                     {&x, &w}, y);
  }
  return y;
}

namespace {

struct AffineConv {
  Tensor x, folded, y;
  kernels::ConvDesc desc;
};

// The forward shared by conv2d_affine and conv2d_batch_renorm_eval. The folded weights are
// written (r.folded) only where a backward needs them or no kernel reads w scaled.
AffineConv affine_conv_forward(const Tensor& x_in, const Tensor& w, const Tensor& scale,
                               const Tensor& shift, const ConvParams& p, bool relu,
                               bool keep_folded, const char* op) {
  const Tensor x_any = detail::dense_f32_keep_format(x_in, op, "input");
  detail::check_rank(x_any, 4, op, "input [N, C, H, W]");
  const bool channels_last = runs_channels_last(x_any.device());
  AffineConv r;
  r.x = detail::in_format(x_any, channels_last);
  r.desc = describe(r.x, w, p, channels_last, op);
  for (const Tensor* t : {&scale, &shift}) {
    AR1_CHECK(t->dim() == 1 && t->size(0) == r.desc.c_out, "[", op, "] ",
              t == &scale ? "scale" : "shift", " must be [", r.desc.c_out, "], got ",
              t->describe());
  }
  r.desc.bias = true;
  r.desc.relu = relu;
  check_same_device(r.x, scale, op);
  check_same_device(r.x, shift, op);
  // The scale folded into the weights: conv(x, w) * s = conv(x, w * s) per output channel.
  const Device dev = r.x.device();
  r.y = detail::empty_in_format({r.desc.n, r.desc.c_out, r.desc.oh(), r.desc.ow()}, dev,
                                channels_last);
  if (!keep_folded &&
      kernels::conv2d_forward_scaled(dev, detail::f32(r.y), detail::f32(r.x), detail::f32(w),
                                     detail::f32(scale), r.desc, detail::f32(shift))) {
    return r;
  }
  r.folded = detail::empty_on(w.shape(), dev);
  kernels::BinaryDesc fold;
  fold.channels = r.desc.c_out, fold.inner = w.numel() / r.desc.c_out;
  fold.b = kernels::Broadcast::per_channel, fold.op = kernels::BinaryOp::mul;
  kernels::binary_forward(dev, detail::f32(r.folded), detail::f32(w), detail::f32(scale), fold);
  kernels::conv2d_forward(r.x.device(), detail::f32(r.y), detail::f32(r.x),
                          detail::f32(r.folded), r.desc, detail::f32(shift));
  return r;
}

}  // namespace

Tensor conv2d_affine(const Tensor& x, const Tensor& w_in, const Tensor& scale_in,
                     const Tensor& shift_in, const ConvParams& p, bool relu) {
  constexpr const char* op = "conv2d_affine";
  const Tensor w = detail::dense_f32(w_in, op, "weight");
  const Tensor scale = detail::dense_f32(scale_in, op, "scale");
  const Tensor shift = detail::dense_f32(shift_in, op, "shift");
  check_defined(x, op, "input");
  AR1_CHECK(!autograd::needs_graph({&x, &w, &scale, &shift}), "[", op,
            "] records no gradient: run it under NoGradGuard on tensors that need none, or use "
            "conv2d_batch_renorm_eval");
  return affine_conv_forward(x, w, scale, shift, p, relu, false, op).y;
}

Tensor conv2d_batch_renorm_eval(const Tensor& x, const Tensor& w_in, const Tensor& gamma_in,
                                const Tensor& beta_in, const Tensor& running_mean,
                                const Tensor& running_std, const ConvParams& p, bool relu) {
  constexpr const char* op = "conv2d_batch_renorm_eval";
  const Tensor w = detail::dense_f32(w_in, op, "weight");
  const Tensor gamma = detail::dense_f32(gamma_in, op, "gamma");
  const Tensor beta = detail::dense_f32(beta_in, op, "beta");
  const Tensor mean = detail::dense_f32(running_mean, op, "running_mean");
  const Tensor std = detail::dense_f32(running_std, op, "running_std");
  check_defined(x, op, "input");
  const int64_t c = w.dim() >= 1 ? w.size(0) : 0;
  for (const Tensor* t : {&gamma, &beta, &mean, &std}) {
    AR1_CHECK(t->dim() == 1 && t->size(0) == c, "[", op, "] gamma, beta and the running "
              "statistics must be [", c, "] (one per output channel), got ", t->describe());
  }
  const auto [scale, shift] = batch_renorm_eval_affine(gamma, beta, mean, std);
  const bool grad = autograd::needs_graph({&x, &w, &gamma, &beta});
  AffineConv r = affine_conv_forward(x, w, scale, shift, p, relu, grad, op);
  if (grad) {
    // Copies of the statistics: later updates of the buffers must not change this graph.
    auto node = std::make_shared<Conv2dBatchReNormEvalBackward>(
        r.x.detach(), w.detach(), r.folded, scale, mean.clone(), std.clone(), r.y.detach(),
        r.desc);
    autograd::record(node, {&x, &w, &gamma, &beta}, r.y);
  }
  return r.y;
}

}  // namespace ar1::nn
