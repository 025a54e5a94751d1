#include "core/autograd/node.h"
#include "kernels/batch_renorm.h"
#include "nn/functional.h"
#include "nn/functional/output.h"
#include "nn/functional/saved_activation.h"

namespace ar1::nn {

namespace {

// Gradients for x, gamma and beta (the running statistics are not differentiable inputs).
// With the affine map kept (the CPU in training), its output is recomputable: a convolution
// after it keeps this node rather than y (nn/functional/saved_activation.h).
class BatchReNormBackward final : public autograd::Node, public detail::RecomputableOutput {
 public:
  // x for xh; with the fused ReLU, its mask's source: y, or the forward's affine map [2c] (the
  // CPU in training: the mask recomputed from x, y not read); gamma for gx; mean and inv_std
  // define xh; r and d are the constants of this forward (r = 1, d = 0 and the running
  // statistics in evaluation).
  BatchReNormBackward(Tensor x, Tensor y, Tensor affine, Tensor gamma, Tensor mean,
                      Tensor inv_std, Tensor r, Tensor d, const kernels::BatchReNormDesc& desc)
      : x_(std::move(x)), y_(std::move(y)), affine_(std::move(affine)),
        gamma_(std::move(gamma)), mean_(std::move(mean)), inv_std_(std::move(inv_std)),
        r_(std::move(r)), d_(std::move(d)), desc_(desc) {}
  std::string name() const override { return "BatchReNormBackward"; }

  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Tensor g = detail::in_format(grad_output, desc_.channels_last);
    const Device dev = g.device();
    Tensor dx, dgamma, dbeta;
    if (next[0]) dx = detail::empty_in_format(x_.shape(), dev, desc_.channels_last);
    if (next[1]) dgamma = detail::empty_on(gamma_.shape(), dev);
    if (next[2]) dbeta = detail::empty_on(gamma_.shape(), dev);
    auto ptr = [](const Tensor& t) { return t.defined() ? detail::f32(t) : nullptr; };
    kernels::batch_renorm_backward(dev, ptr(dx), ptr(dgamma), ptr(dbeta), detail::f32(g),
                                   detail::f32(x_), ptr(y_), detail::f32(gamma_),
                                   detail::f32(mean_), detail::f32(inv_std_), detail::f32(r_),
                                   detail::f32(d_), desc_, ptr(affine_));
    return {dx, dgamma, dbeta};
  }
  void release() override {
    x_ = y_ = affine_ = gamma_ = mean_ = inv_std_ = r_ = d_ = {};
  }

  void set_output(const Tensor& y) { output_ = y.impl_ptr(); }
  bool is_output(const Tensor& t) const override {
    return affine_.defined() && t.impl_ptr() == output_.lock();
  }
  Tensor recompute_output() const override {
    AR1_CHECK(x_.defined(), "[batch_renorm] the output was asked for again after this graph "
              "was freed: call backward with retain_graph to run it twice");
    Tensor y = detail::empty_in_format(x_.shape(), x_.device(), desc_.channels_last);
    kernels::batch_renorm_apply_saved(x_.device(), detail::f32(y), detail::f32(x_),
                                      detail::f32(affine_), desc_);
    return y;
  }

 private:
  Tensor x_, y_, affine_, gamma_, mean_, inv_std_, r_, d_;
  std::weak_ptr<TensorImpl> output_;
  kernels::BatchReNormDesc desc_;
};

void check_channel_vector(const Tensor& t, int64_t c, const char* what) {
  AR1_CHECK(t.dim() == 1 && t.size(0) == c, "[batch_renorm] ", what, " must be [", c,
            "] (one value per input channel), got ", t.describe());
}

}  // namespace

Tensor batch_renorm(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in,
                    const Tensor& running_mean, const Tensor& running_std,
                    const BatchReNormParams& p) {
  constexpr const char* op = "batch_renorm";
  const Tensor x = detail::dense_f32_keep_format(x_in, op, "input");
  detail::check_rank(x, 4, op, "input [N, C, H, W]");
  const Tensor gamma = detail::dense_f32(gamma_in, op, "gamma");
  const Tensor beta = detail::dense_f32(beta_in, op, "beta");
  const int64_t c = x.size(1);
  check_channel_vector(gamma, c, "gamma");
  check_channel_vector(beta, c, "beta");
  for (const Tensor* t : {&running_mean, &running_std}) {
    const char* what = t == &running_mean ? "running_mean" : "running_std";
    check_defined(*t, op, what);
    check_dtype(*t, DType::f32, op, what);
    check_channel_vector(*t, c, what);
    // Updated in place: a strided view would be copied and the update lost.
    AR1_CHECK(t->is_contiguous() && !t->requires_grad(), "[batch_renorm] ",
              what, " must be a contiguous buffer that requires no gradient, got ",
              t->describe());
    check_same_device(x, *t, op);
  }
  check_same_device(x, gamma, op);
  check_same_device(x, beta, op);
  AR1_CHECK(p.r_max >= 1.f && p.d_max >= 0.f && p.eps > 0.f, "[batch_renorm] r_max ", p.r_max,
            ", d_max ", p.d_max, ", eps ", p.eps, ": need r_max >= 1, d_max >= 0, eps > 0");

  kernels::BatchReNormDesc d;
  d.n = x.size(0), d.c = c, d.hw = x.size(2) * x.size(3);
  d.eps = p.eps, d.r_max = p.r_max, d.d_max = p.d_max, d.momentum = p.momentum;
  d.training = p.training, d.relu = p.relu;
  d.channels_last = detail::stored_channels_last(x);

  const Device dev = x.device();
  const bool grad = autograd::needs_graph({&x, &gamma, &beta});
  Tensor y = detail::empty_in_format(x.shape(), dev, d.channels_last);
  Tensor mean, inv_std, r, shift, affine;
  if (p.training) {
    mean = detail::empty_on({c}, dev);
    inv_std = detail::empty_on({c}, dev);
    r = detail::empty_on({c}, dev);
    shift = detail::empty_on({c}, dev);
    Tensor batch_std = detail::empty_on({c}, dev);
    // On the CPU the backward recomputes the ReLU's mask from x and this map.
    if (grad && p.relu && dev.is_cpu()) affine = detail::empty_on({2 * c}, dev);
    const kernels::BatchReNormSaved saved{
        detail::f32(mean),  detail::f32(batch_std), detail::f32(inv_std), detail::f32(r),
        detail::f32(shift), affine.defined() ? detail::f32(affine) : nullptr};
    kernels::batch_renorm_train_forward(dev, detail::f32(y), saved, detail::f32(running_mean),
                                        detail::f32(running_std), detail::f32(x),
                                        detail::f32(gamma), detail::f32(beta), d);
  } else {
    kernels::batch_renorm_eval_forward(dev, detail::f32(y), detail::f32(x), detail::f32(gamma),
                                       detail::f32(beta), detail::f32(running_mean),
                                       detail::f32(running_std), d);
    if (grad) {
      // Backward in evaluation is the affine map's: mean = mu, inv_std = 1 / sigma, r = 1,
      // d = 0 (copies, so later updates of the buffers do not change this graph).
      mean = running_mean.clone();
      inv_std = detail::empty_on({c}, dev);
      Tensor unused = detail::empty_on({c}, dev);
      // 1 / sigma: the evaluation map's scale with gamma = 1.
      kernels::batch_renorm_eval_affine(dev, detail::f32(inv_std), detail::f32(unused), nullptr,
                                        nullptr, detail::f32(running_mean),
                                        detail::f32(running_std), c);
      r = Tensor::full({c}, 1.f, dev);
      shift = Tensor::zeros({c}, DType::f32, dev);
    }
  }
  if (grad) {
    auto node = std::make_shared<BatchReNormBackward>(
        x.detach(), p.relu && !affine.defined() ? y.detach() : Tensor(), affine, gamma.detach(),
        mean, inv_std, r, shift, d);
    autograd::record(node, {&x, &gamma, &beta}, y);
    node->set_output(y);
  }
  return y;
}

std::pair<Tensor, Tensor> batch_renorm_eval_affine(const Tensor& gamma_in, const Tensor& beta_in,
                                                   const Tensor& mean_in, const Tensor& std_in) {
  constexpr const char* op = "batch_renorm_eval_affine";
  const Tensor gamma = detail::dense_f32(gamma_in, op, "gamma");
  const int64_t c = gamma.numel();
  const Tensor beta = detail::dense_f32(beta_in, op, "beta");
  const Tensor mean = detail::dense_f32(mean_in, op, "running_mean");
  const Tensor std = detail::dense_f32(std_in, op, "running_std");
  check_channel_vector(beta, c, "beta");
  check_channel_vector(mean, c, "running_mean");
  check_channel_vector(std, c, "running_std");
  check_same_device(gamma, beta, op);
  check_same_device(gamma, mean, op);
  check_same_device(gamma, std, op);
  const Device dev = gamma.device();
  Tensor scale = detail::empty_on({c}, dev), shift = detail::empty_on({c}, dev);
  kernels::batch_renorm_eval_affine(dev, detail::f32(scale), detail::f32(shift),
                                    detail::f32(gamma), detail::f32(beta), detail::f32(mean),
                                    detail::f32(std), c);
  return {scale, shift};
}

}  // namespace ar1::nn
