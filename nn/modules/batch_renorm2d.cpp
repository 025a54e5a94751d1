#include "nn/modules/batch_renorm2d.h"

namespace ar1::nn {

BatchReNorm2d::BatchReNorm2d(int64_t channels, const BatchReNormOptions& options)
    : options_(options) {
  AR1_CHECK(channels > 0, "[BatchReNorm2d] channels must be positive, got ", channels);
  gamma_ = register_parameter("gamma", Tensor::ones({channels}));
  beta_ = register_parameter("beta", Tensor::zeros({channels}));
  running_mean_ = register_buffer("running_mean", Tensor::zeros({channels}));
  running_std_ = register_buffer("running_std", Tensor::ones({channels}));
}

Tensor BatchReNorm2d::forward(const Tensor& x) {
  BatchReNormParams p;
  p.training = is_training();
  p.momentum = static_cast<float>(options_.momentum);
  p.r_max = static_cast<float>(options_.r_max);
  p.d_max = static_cast<float>(options_.d_max);
  p.eps = static_cast<float>(options_.eps);
  p.relu = options_.fuse_relu;
  Tensor y = batch_renorm(x, gamma_, beta_, running_mean_, running_std_, p);
  if (p.training) {
    const double n = static_cast<double>(x.size(0));
    if (options_.r_max < options_.max_r_max) options_.r_max += options_.r_d_inc * n;
    if (options_.d_max < options_.max_d_max) options_.d_max += options_.r_d_inc * n;
  }
  return y;
}

}  // namespace ar1::nn
