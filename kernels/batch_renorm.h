#pragma once
// Batch Renormalization (Ioffe 2017) over dense f32 NCHW, per channel over N, H, W
// (SPEC.md section 2). x, y, dy, dx are [n, c, hw]; every per-channel array is [c].
//
// Training:  mu_B = mean x, s_B = sqrt(biased var + eps),
//            r = clip(s_B / sigma, 1 / r_max, r_max), d = clip((mu_B - mu) / sigma, -d_max, d_max),
//            y = gamma * ((x - mu_B) / s_B * r + d) + beta, then max(y, 0) when relu;
//            afterwards mu += momentum (mu_B - mu), sigma += momentum (s_B - sigma).
// Eval:      y = gamma * (x - mu) / sigma + beta (then max(y, 0) when relu).
// Backward:  xh = (x - mean) * inv_std, g = dy masked by y > 0 when relu,
//            dbeta = sum g, dgamma = sum g (r xh + d), gx = gamma r g,
//            dx = (gx - mean(gx) - xh mean(gx xh)) * inv_std in training,
//            dx = gx * inv_std in eval (pass mean = mu, inv_std = 1 / sigma, r = 1, d = 0).
//
// Channel sums use double accumulators in a fixed order, one thread per channel, so results
// are bit-identical whatever the thread count.
#include <cstdint>

#include "core/device.h"
#include "core/hd.h"

namespace ar1::kernels {

struct BatchReNormDesc {
  int64_t n = 0, c = 0, hw = 0;  // x is [n, c, hw], or [n, hw, c] when channels_last
  bool channels_last = false;
  float eps = 1e-5f;
  float r_max = 1.f, d_max = 0.f;
  float momentum = 0.f;  // running-statistics update rate; 0 leaves them unchanged
  bool training = true;  // backward: centre the gradient with the batch statistics
  bool relu = false;     // fused ReLU on the output
  AR1_HD int64_t per_channel() const { return n * hw; }
};

// What the training forward saves for backward (and for the running-statistics update): the
// batch mean mu_B, s_B, 1 / s_B and the clipped r and d, each [c]; where affine is given (the
// CPU), also the map y = a x + b it applied, a then b [2c], from which the CPU backward
// recomputes the fused ReLU's mask instead of reading y (a pass over memory less, same bits).
struct BatchReNormSaved {
  float* mean = nullptr;
  float* std = nullptr;
  float* inv_std = nullptr;
  float* r = nullptr;
  float* d = nullptr;
  float* affine = nullptr;
};

// y [n, c, hw]; saved as above; running_mean / running_std [c] are read, then updated in place
// with desc.momentum.
void batch_renorm_train_forward(Device device, float* y, const BatchReNormSaved& saved,
                                float* running_mean, float* running_std, const float* x,
                                const float* gamma, const float* beta,
                                const BatchReNormDesc& desc);
void batch_renorm_eval_forward(Device device, float* y, const float* x, const float* gamma,
                               const float* beta, const float* running_mean,
                               const float* running_std, const BatchReNormDesc& desc);
// y = a x + b (then the fused ReLU) from the map a training forward saved
// (BatchReNormSaved::affine): that forward's y again, bit for bit, for a consumer that kept x
// instead of y (CPU only).
void batch_renorm_apply_saved(Device device, float* y, const float* x, const float* affine,
                              const BatchReNormDesc& desc);
// Any of dx, dgamma, dbeta may be null (not computed). With desc.relu, the mask is y > 0: y is
// read, unless relu_affine (BatchReNormSaved::affine, CPU only) is given, and then y may be null
// and the mask is recomputed as a x + b > 0 exactly as the forward computed y.
void batch_renorm_backward(Device device, float* dx, float* dgamma, float* dbeta, const float* dy,
                           const float* x, const float* y, const float* gamma, const float* mean,
                           const float* inv_std, const float* r, const float* d,
                           const BatchReNormDesc& desc, const float* relu_affine = nullptr);

// Evaluation as an affine map per channel: scale = gamma / sigma, shift = beta - scale mu
// (gamma, beta may be null: 1 and 0), for folding into a convolution.
void batch_renorm_eval_affine(Device device, float* scale, float* shift, const float* gamma,
                              const float* beta, const float* running_mean,
                              const float* running_std, int64_t c);

// The parameter gradients of a convolution with the evaluation-mode Batch Renormalization
// folded in (nn::conv2d_batch_renorm_eval): from dfolded = dL/d(w scale) [c, per_out] and
// db = the masked gradient's channel sums, dw = dfolded scale (when dw is not null) and
// dgamma = (sum_i dfolded_i w_i - db mu) / sigma (when dgamma is not null).
struct FoldedGradDesc {
  int64_t c = 0, per_out = 0;
};
void batch_renorm_folded_grads(Device device, float* dw, float* dgamma, const float* dfolded,
                               const float* w, const float* scale, const float* db,
                               const float* running_mean, const float* running_std,
                               const FoldedGradDesc& desc);

namespace cpu {
void batch_renorm_train_forward(float* y, const BatchReNormSaved& saved, float* running_mean,
                                float* running_std, const float* x, const float* gamma,
                                const float* beta, const BatchReNormDesc& desc);
void batch_renorm_eval_forward(float* y, const float* x, const float* gamma, const float* beta,
                               const float* running_mean, const float* running_std,
                               const BatchReNormDesc& desc);
void batch_renorm_apply_saved(float* y, const float* x, const float* affine,
                              const BatchReNormDesc& desc);
void batch_renorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                           const float* y, const float* gamma, const float* mean,
                           const float* inv_std, const float* r, const float* d,
                           const BatchReNormDesc& desc, const float* relu_affine = nullptr);
void batch_renorm_eval_affine(float* scale, float* shift, const float* gamma,
                              const float* beta, const float* running_mean,
                              const float* running_std, int64_t c);
void batch_renorm_folded_grads(float* dw, float* dgamma, const float* dfolded, const float* w,
                               const float* scale, const float* db, const float* running_mean,
                               const float* running_std, const FoldedGradDesc& desc);
}  // namespace cpu

namespace cuda {
void batch_renorm_train_forward(Device device, float* y, const BatchReNormSaved& saved,
                                float* running_mean, float* running_std, const float* x,
                                const float* gamma, const float* beta,
                                const BatchReNormDesc& desc);
void batch_renorm_eval_forward(Device device, float* y, const float* x, const float* gamma,
                               const float* beta, const float* running_mean,
                               const float* running_std, const BatchReNormDesc& desc);
void batch_renorm_backward(Device device, float* dx, float* dgamma, float* dbeta, const float* dy,
                           const float* x, const float* y, const float* gamma, const float* mean,
                           const float* inv_std, const float* r, const float* d,
                           const BatchReNormDesc& desc);
void batch_renorm_eval_affine(Device device, float* scale, float* shift, const float* gamma,
                              const float* beta, const float* running_mean,
                              const float* running_std, int64_t c);
void batch_renorm_folded_grads(Device device, float* dw, float* dgamma, const float* dfolded, const float* w,
                               const float* scale, const float* db, const float* running_mean,
                               const float* running_std, const FoldedGradDesc& desc);
}  // namespace cuda

}  // namespace ar1::kernels
