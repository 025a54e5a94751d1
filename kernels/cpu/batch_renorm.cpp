// Batch Renormalization on the CPU: one OpenMP thread per channel, double accumulators in a
// fixed order (bit-identical across thread counts). Each element is then an affine map
// y = a x + b with per-channel a, b computed in double.
#include <algorithm>
#include <cmath>

#include "kernels/batch_renorm.h"

namespace ar1::kernels::cpu {

namespace {

// Applies y = a x + b (then ReLU) to one channel of every sample.
inline void affine_channel(float* y, const float* x, int64_t c, float a, float b,
                           const BatchReNormDesc& d) {
  for (int64_t i = 0; i < d.n; ++i) {
    const int64_t base = (i * d.c + c) * d.hw;
    const float* xp = x + base;
    float* yp = y + base;
    if (d.relu) {
      for (int64_t j = 0; j < d.hw; ++j) yp[j] = std::max(a * xp[j] + b, 0.f);
    } else {
      for (int64_t j = 0; j < d.hw; ++j) yp[j] = a * xp[j] + b;
    }
  }
}

}  // namespace

void batch_renorm_train_forward(float* y, const BatchReNormSaved& saved, float* running_mean,
                                float* running_std, const float* x, const float* gamma,
                                const float* beta, const BatchReNormDesc& d) {
  const double count = static_cast<double>(d.per_channel());
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.c; ++c) {
    // Two passes (mean, then centred squares) for an accurate biased variance.
    double sum = 0.0;
    for (int64_t i = 0; i < d.n; ++i) {
      const float* xp = x + (i * d.c + c) * d.hw;
      for (int64_t j = 0; j < d.hw; ++j) sum += xp[j];
    }
    const double mu_b = sum / count;
    double sq = 0.0;
    for (int64_t i = 0; i < d.n; ++i) {
      const float* xp = x + (i * d.c + c) * d.hw;
      for (int64_t j = 0; j < d.hw; ++j) {
        const double t = xp[j] - mu_b;
        sq += t * t;
      }
    }
    const double s_b = std::sqrt(sq / count + static_cast<double>(d.eps));
    const double sigma = running_std[c];
    const double r_max = d.r_max, d_max = d.d_max;
    const double r = std::clamp(s_b / sigma, 1.0 / r_max, r_max);
    const double dd = std::clamp((mu_b - running_mean[c]) / sigma, -d_max, d_max);

    // y = gamma ((x - mu_B) / s_B r + d) + beta = a x + b.
    const double g = gamma[c];
    const double a = g * r / s_b;
    const double b = g * dd + beta[c] - a * mu_b;
    affine_channel(y, x, c, static_cast<float>(a), static_cast<float>(b), d);

    // Saved for backward (mean, inv_std, r, d) and the running update (std).
    saved.mean[c] = static_cast<float>(mu_b);
    saved.std[c] = static_cast<float>(s_b);
    saved.inv_std[c] = static_cast<float>(1.0 / s_b);
    saved.r[c] = static_cast<float>(r);
    saved.d[c] = static_cast<float>(dd);

    // Running statistics, in f32 like the stored values: v += m (batch - v).
    running_mean[c] += d.momentum * (saved.mean[c] - running_mean[c]);
    running_std[c] += d.momentum * (saved.std[c] - running_std[c]);
  }
}

void batch_renorm_eval_forward(float* y, const float* x, const float* gamma, const float* beta,
                               const float* running_mean, const float* running_std,
                               const BatchReNormDesc& d) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.c; ++c) {
    // y = gamma (x - mu) / sigma + beta = a x + b.
    const double a = static_cast<double>(gamma[c]) / running_std[c];
    const double b = beta[c] - a * running_mean[c];
    affine_channel(y, x, c, static_cast<float>(a), static_cast<float>(b), d);
  }
}

void batch_renorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                           const float* y, const float* gamma, const float* mean,
                           const float* inv_std, const float* r, const float* d_shift,
                           const BatchReNormDesc& d) {
  const double count = static_cast<double>(d.per_channel());
  // The incoming gradient, masked by the fused ReLU's output.
  auto grad_at = [&](int64_t k) { return (d.relu && !(y[k] > 0.f)) ? 0.f : dy[k]; };
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.c; ++c) {
    const double mu = mean[c], is = inv_std[c];
    double sum_g = 0.0, sum_gxh = 0.0;
    for (int64_t i = 0; i < d.n; ++i) {
      const int64_t base = (i * d.c + c) * d.hw;
      for (int64_t j = 0; j < d.hw; ++j) {
        const double g = grad_at(base + j);
        sum_g += g;
        sum_gxh += g * ((x[base + j] - mu) * is);
      }
    }
    const double rc = r[c];
    if (dbeta != nullptr) dbeta[c] = static_cast<float>(sum_g);
    if (dgamma != nullptr) dgamma[c] = static_cast<float>(rc * sum_gxh + d_shift[c] * sum_g);
    if (dx == nullptr) continue;

    // dx = scale (g - [training] (mean(g) + xh mean(g xh))), scale = gamma r / s.
    const double scale = static_cast<double>(gamma[c]) * rc * is;
    const double mean_g = d.training ? sum_g / count : 0.0;
    const double mean_gxh = d.training ? sum_gxh / count : 0.0;
    for (int64_t i = 0; i < d.n; ++i) {
      const int64_t base = (i * d.c + c) * d.hw;
      for (int64_t j = 0; j < d.hw; ++j) {
        const double xh = (x[base + j] - mu) * is;
        const double g = grad_at(base + j);
        dx[base + j] = static_cast<float>(scale * (g - mean_g - xh * mean_gxh));
      }
    }
  }
}

}  // namespace ar1::kernels::cpu
