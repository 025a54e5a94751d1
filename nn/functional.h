#pragma once
// Differentiable tensor ops. Each checks its inputs (device, dtype, shapes; errors name the op
// and the shapes), allocates its output on the inputs' device (or writes into `out` when one
// is given and no gradient is needed), calls its kernel through kernels/ dispatch, and records
// its backward node when grad mode is on and an input requires a gradient.
// Implementations: nn/functional/<op>.cpp, one op (forward + backward node) per file.
#include <utility>

#include "core/tensor.h"

namespace ar1::nn {

struct ConvParams {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t groups = 1;
};

// x [N, C_in, H, W], weight [C_out, C_in / groups, KH, KW] -> [N, C_out, OH, OW]; no bias.
Tensor conv2d(const Tensor& x, const Tensor& weight, const ConvParams& params,
              const Tensor& out = {});

// Inference only (refused where a gradient would be recorded): conv2d(x, weight) * scale[c] +
// shift[c] per output channel, then ReLU if relu, as one convolution with the scale folded
// into the weights and shift as its bias. Rounds differently from the separate ops (within
// 1e-6 relative). CPU; the result is channels-last.
Tensor conv2d_affine(const Tensor& x, const Tensor& weight, const Tensor& scale,
                     const Tensor& shift, const ConvParams& params, bool relu);

// conv2d followed by batch_renorm in evaluation mode (and ReLU if relu), folded into one
// convolution as conv2d_affine does (scale = gamma / sigma, shift = beta - scale mu), with
// gradients for x, weight, gamma and beta. It saves less for backward than the two ops (not
// the convolution's output) and skips the normalisation's pass over memory. CPU.
Tensor conv2d_batch_renorm_eval(const Tensor& x, const Tensor& weight, const Tensor& gamma,
                                const Tensor& beta, const Tensor& running_mean,
                                const Tensor& running_std, const ConvParams& params, bool relu);

// x [N, in], weight [out, in], bias [out] or undefined -> [N, out] (y = x W^T + b).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              const Tensor& out = {});
// a [M, K] @ b [K, N] -> [M, N].
Tensor matmul(const Tensor& a, const Tensor& b, const Tensor& out = {});

Tensor relu(const Tensor& x, const Tensor& out = {});

struct PoolParams {
  int64_t kernel = 2;
  int64_t stride = 2;
};
// x [N, C, H, W] -> [N, C, OH, OW], no padding.
Tensor avg_pool2d(const Tensor& x, const PoolParams& params, const Tensor& out = {});
// x [N, C, H, W] -> [N, C, 1, 1].
Tensor global_avg_pool2d(const Tensor& x, const Tensor& out = {});

// a op b, where b has a's shape, is a single value, or holds one value per channel (dim 1 of
// a): shapes [C], [1, C, 1, 1] or [C, 1, 1].
Tensor add(const Tensor& a, const Tensor& b, const Tensor& out = {});
Tensor sub(const Tensor& a, const Tensor& b, const Tensor& out = {});
Tensor mul(const Tensor& a, const Tensor& b, const Tensor& out = {});

// Sum or mean of every element -> 0-d tensor.
Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);

// Fused log-softmax + negative log-likelihood, mean over the batch: logits [N, C] f32,
// labels [N] i64 in [0, C) -> 0-d tensor.
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);

// A copy of `t` on `device` (itself when already there); not differentiable.
Tensor to_device(const Tensor& t, Device device);

// Batch Renormalization (SPEC.md section 2) of x [N, C, H, W] with gamma, beta [C] and the
// running statistics running_mean, running_std [C] (f32, contiguous). In training it normalises
// with the batch statistics, corrected by r and d (constants for autograd) clipped to r_max /
// d_max, and updates the running statistics in place (mu += momentum (mu_B - mu), likewise
// sigma with s_B), also under NoGradGuard. In evaluation it uses the running statistics.
// relu fuses a following ReLU. Gradients flow to x, gamma and beta.
struct BatchReNormParams {
  bool training = true;
  float momentum = 0.01f;
  float r_max = 1.f;
  float d_max = 0.f;
  float eps = 1e-5f;
  bool relu = false;
};
Tensor batch_renorm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                    const Tensor& running_mean, const Tensor& running_std,
                    const BatchReNormParams& params);

// The evaluation-mode map of batch_renorm as y = scale x + shift per channel: scale =
// gamma / sigma, shift = beta - scale mu (in double, as the evaluation kernel computes them).
// All four inputs are [C] f32 on the cpu; no gradient.
std::pair<Tensor, Tensor> batch_renorm_eval_affine(const Tensor& gamma, const Tensor& beta,
                                                   const Tensor& running_mean,
                                                   const Tensor& running_std);

}  // namespace ar1::nn
