// Batch Renormalization with the fused ReLU on a GPU: per-channel sums in the fixed order of
// kernels/cuda/channel_reduction.cuh, then one affine pass. The per-channel and per-element
// math is the CPU kernel's (kernels/math/batch_renorm.h).
#include "kernels/batch_renorm.h"
#include "kernels/cuda/channel_reduction.cuh"
#include "kernels/math/batch_renorm.h"

namespace ar1::kernels::cuda {

namespace {

// y = a[c] x + b[c] (then ReLU) over every element; ab holds a, b per channel.
void apply_affine(Context& ctx, float* y, const float* x, const float* ab,
                  const BatchReNormDesc& d, const char* op) {
  for_each_index(ctx, d.n * d.c * d.hw, [=] __device__(int64_t k) {
    const int64_t c = math::batch_renorm_channel_of(k, d);
    y[k] = math::batch_renorm_affine(x[k], ab[2 * c], ab[2 * c + 1], d.relu);
  }, op);
}

}  // namespace

void batch_renorm_train_forward(Device device, float* y, const BatchReNormSaved& saved,
                                float* running_mean, float* running_std, const float* x,
                                const float* gamma, const float* beta,
                                const BatchReNormDesc& d) {
  Context& ctx = Context::get(device);
  Scratch ab(ctx, static_cast<size_t>(2 * d.c) * sizeof(float));
  float* coef = ab.as<float>();
  channel_reduce(
      ctx, d.c, d.per_channel(),
      [=] __device__(int64_t c, int64_t j) {
        const double t = static_cast<double>(x[math::batch_renorm_element(j, c, d)]) -
                         math::batch_renorm_shift(x, c, d);
        return TermPair{t, t * t};
      },
      [=] __device__(int64_t c, double s1, double s2) {
        const math::BatchReNormChannel ch = math::batch_renorm_train_channel(
            s1, s2, math::batch_renorm_shift(x, c, d), gamma[c], beta[c], running_mean[c],
            running_std[c], d);
        coef[2 * c] = ch.a;
        coef[2 * c + 1] = ch.b;
        saved.mean[c] = ch.mean;
        saved.std[c] = ch.std;
        saved.inv_std[c] = ch.inv_std;
        saved.r[c] = ch.r;
        saved.d[c] = ch.d;
        running_mean[c] = math::batch_renorm_running(running_mean[c], ch.mean, d.momentum);
        running_std[c] = math::batch_renorm_running(running_std[c], ch.std, d.momentum);
      },
      "batch_renorm");
  apply_affine(ctx, y, x, coef, d, "batch_renorm");
}

void batch_renorm_eval_forward(Device device, float* y, const float* x, const float* gamma,
                               const float* beta, const float* running_mean,
                               const float* running_std, const BatchReNormDesc& d) {
  Context& ctx = Context::get(device);
  Scratch ab(ctx, static_cast<size_t>(2 * d.c) * sizeof(float));
  float* coef = ab.as<float>();
  for_each_index(ctx, d.c, [=] __device__(int64_t c) {
    math::batch_renorm_eval_channel(gamma[c], beta[c], running_mean[c], running_std[c],
                                    &coef[2 * c], &coef[2 * c + 1]);
  }, "batch_renorm");
  apply_affine(ctx, y, x, coef, d, "batch_renorm");
}

void batch_renorm_backward(Device device, float* dx, float* dgamma, float* dbeta, const float* dy,
                           const float* x, const float* y, const float* gamma, const float* mean,
                           const float* inv_std, const float* r, const float* d_shift,
                           const BatchReNormDesc& d) {
  Context& ctx = Context::get(device);
  Scratch abd(ctx, static_cast<size_t>(3 * d.c) * sizeof(float));
  float* coef = abd.as<float>();
  channel_reduce(
      ctx, d.c, d.per_channel(),
      [=] __device__(int64_t c, int64_t j) {
        const int64_t k = math::batch_renorm_element(j, c, d);
        const double g = math::batch_renorm_masked_grad(dy[k], d.relu ? y[k] : 1.f, d.relu);
        return TermPair{g, g * (static_cast<double>(x[k]) - mean[c])};
      },
      [=] __device__(int64_t c, double sum_g, double sum_gxc) {
        const math::BatchReNormGradChannel ch = math::batch_renorm_grad_channel(
            sum_g, sum_gxc, gamma[c], inv_std[c], r[c], d_shift[c], d);
        if (dbeta != nullptr) dbeta[c] = ch.dbeta;
        if (dgamma != nullptr) dgamma[c] = ch.dgamma;
        coef[3 * c] = ch.a;
        coef[3 * c + 1] = ch.b;
        coef[3 * c + 2] = ch.d;
      },
      "batch_renorm backward");
  if (dx == nullptr) return;
  for_each_index(ctx, d.n * d.c * d.hw, [=] __device__(int64_t k) {
    const int64_t c = math::batch_renorm_channel_of(k, d);
    const float g = math::batch_renorm_masked_grad(dy[k], d.relu ? y[k] : 1.f, d.relu);
    dx[k] = math::batch_renorm_dx(g, x[k], mean[c], coef[3 * c], coef[3 * c + 1], coef[3 * c + 2]);
  }, "batch_renorm backward");
}

void batch_renorm_eval_affine(Device device, float* scale, float* shift, const float* gamma,
                              const float* beta, const float* running_mean,
                              const float* running_std, int64_t c) {
  for_each_index(Context::get(device), c, [=] __device__(int64_t i) {
    math::batch_renorm_eval_channel(gamma != nullptr ? gamma[i] : 1.f,
                                    beta != nullptr ? beta[i] : 0.f, running_mean[i],
                                    running_std[i], &scale[i], &shift[i]);
  }, "batch_renorm_eval_affine");
}

void batch_renorm_folded_grads(Device device, float* dw, float* dgamma, const float* dfolded,
                               const float* w, const float* scale, const float* db,
                               const float* running_mean, const float* running_std,
                               const FoldedGradDesc& d) {
  Context& ctx = Context::get(device);
  const int64_t per_out = d.per_out;
  if (dw != nullptr) {
    for_each_index(ctx, d.c * per_out, [=] __device__(int64_t i) {
      dw[i] = dfolded[i] * scale[i / per_out];
    }, "conv2d_batch_renorm_eval backward");
  }
  if (dgamma == nullptr) return;
  channel_reduce(
      ctx, d.c, per_out,
      [=] __device__(int64_t c, int64_t j) {
        const int64_t i = c * per_out + j;
        return TermPair{static_cast<double>(dfolded[i]) * w[i], 0.0};
      },
      [=] __device__(int64_t c, double ds, double) {
        dgamma[c] = math::batch_renorm_folded_dgamma(ds, db[c], running_mean[c], running_std[c]);
      },
      "conv2d_batch_renorm_eval backward");
}

}  // namespace ar1::kernels::cuda
