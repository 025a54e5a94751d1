#pragma once
// Batch Renormalization's per-channel and per-element math (kernels/batch_renorm.h states the
// formulas), shared by the CPU kernels and the CUDA ones. The channel sums themselves are each
// backend's own loops, each in an order fixed by the shape.
#include <cmath>

#include "core/hd.h"
#include "kernels/batch_renorm.h"

namespace ar1::kernels::math {

// Index of the j-th element (j < n hw) of channel c.
AR1_HD inline int64_t batch_renorm_element(int64_t j, int64_t c, const BatchReNormDesc& d) {
  if (d.channels_last) return j * d.c + c;
  return ((j / d.hw) * d.c + c) * d.hw + j % d.hw;
}

// The channel of element k.
AR1_HD inline int64_t batch_renorm_channel_of(int64_t k, const BatchReNormDesc& d) {
  return d.channels_last ? k % d.c : (k / d.hw) % d.c;
}

// The shift of channel c's moments: its first value (keeps the one-pass variance accurate).
AR1_HD inline double batch_renorm_shift(const float* x, int64_t c, const BatchReNormDesc& d) {
  return x[d.channels_last ? c : c * d.hw];
}

// The training forward of one channel from s1 = sum(x - shift), s2 = sum((x - shift)^2):
// y = a x + b, and what backward and the running update need.
struct BatchReNormChannel {
  float a, b;                     // y = a x + b
  float mean, std, inv_std, r, d; // saved: mu_B, s_B, 1 / s_B, clipped r and d
};

AR1_HD inline BatchReNormChannel batch_renorm_train_channel(double s1, double s2, double shift,
                                                            float gamma, float beta,
                                                            float running_mean,
                                                            float running_std,
                                                            const BatchReNormDesc& desc) {
  const double count = static_cast<double>(desc.per_channel());
  const double m = s1 / count;
  const double mu_b = shift + m;
  const double var = hd::max_of(0.0, s2 / count - m * m);  // biased
  const double s_b = sqrt(var + static_cast<double>(desc.eps));
  const double sigma = running_std;
  const double r_max = desc.r_max, d_max = desc.d_max;
  const double r = hd::clamp_to(s_b / sigma, 1.0 / r_max, r_max);
  const double dd = hd::clamp_to((mu_b - running_mean) / sigma, -d_max, d_max);
  // y = gamma ((x - mu_B) / s_B r + d) + beta = a x + b.
  const double g = gamma;
  const double ac = g * r / s_b;
  BatchReNormChannel out;
  out.a = static_cast<float>(ac);
  out.b = static_cast<float>(g * dd + beta - ac * mu_b);
  out.mean = static_cast<float>(mu_b);
  out.std = static_cast<float>(s_b);
  out.inv_std = static_cast<float>(1.0 / s_b);
  out.r = static_cast<float>(r);
  out.d = static_cast<float>(dd);
  return out;
}

// Running statistics, in f32 like the stored values: v += momentum (batch - v).
AR1_HD inline float batch_renorm_running(float v, float batch, float momentum) {
  return v + momentum * (batch - v);
}

// Evaluation: y = gamma (x - mu) / sigma + beta = a x + b.
AR1_HD inline void batch_renorm_eval_channel(float gamma, float beta, float mean, float sigma,
                                             float* a, float* b) {
  const double ac = static_cast<double>(gamma) / sigma;
  *a = static_cast<float>(ac);
  *b = static_cast<float>(beta - ac * mean);
}

// dgamma of the folded evaluation (kernels/batch_renorm.h) from ds = sum_i dfolded_i w_i.
AR1_HD inline float batch_renorm_folded_dgamma(double ds, float db, float mean, float sigma) {
  return static_cast<float>((ds - static_cast<double>(db) * mean) / sigma);
}

AR1_HD inline float batch_renorm_affine(float x, float a, float b, bool relu) {
  const float y = a * x + b;
  return relu ? hd::max_of(y, 0.f) : y;
}

// The incoming gradient, masked where the fused ReLU cut the output.
AR1_HD inline float batch_renorm_masked_grad(float dy, float y, bool relu) {
  return !relu || y > 0.f ? dy : 0.f;
}

// Backward of one channel from sum_g = sum(g) and sum_gxc = sum(g (x - mean)):
// dx = a g + b (x - mean) + d, and the parameter gradients.
struct BatchReNormGradChannel {
  float dgamma, dbeta;
  float a, b, d;
};

AR1_HD inline BatchReNormGradChannel batch_renorm_grad_channel(double sum_g, double sum_gxc,
                                                               float gamma, float inv_std,
                                                               float r, float d_shift,
                                                               const BatchReNormDesc& desc) {
  const double count = static_cast<double>(desc.per_channel());
  const double is = inv_std, rc = r;
  const double sum_gxh = sum_gxc * is;
  BatchReNormGradChannel out;
  out.dbeta = static_cast<float>(sum_g);
  out.dgamma = static_cast<float>(rc * sum_gxh + d_shift * sum_g);
  // dx = scale (g - [training] (mean(g) + xh mean(g xh))), scale = gamma r / s.
  const double scale = static_cast<double>(gamma) * rc * is;
  const double mean_g = desc.training ? sum_g / count : 0.0;
  const double mean_gxh = desc.training ? sum_gxh / count : 0.0;
  out.a = static_cast<float>(scale);
  out.b = static_cast<float>(-scale * mean_gxh * is);
  out.d = static_cast<float>(-scale * mean_g);
  return out;
}

AR1_HD inline float batch_renorm_dx(float g, float x, float mean, float a, float b, float d) {
  return a * g + b * (x - mean) + d;
}

}  // namespace ar1::kernels::math
