// Batch Renormalization on the CPU, for [N, C, HW] (planar) and channels-last [N, HW, C]
// (interleaved) tensors.
//
// Each kernel is two passes over memory: per-channel sums, then one affine map per element.
// Sums are taken in double, in an order fixed by the shape alone, so results are bit-identical
// for any thread count:
// - planar: one channel per task; within a channel, 8 lanes of partial sums over each
//   contiguous row (so the loop vectorises), then the lanes in order;
// - interleaved: the N*HW pixel rows are cut into blocks whose size depends only on C; each
//   block sums every channel at once (vectorised across channels), then the blocks are added
//   in order.
// Moments are accumulated about a per-channel shift (the channel's first value), which keeps
// the one-pass variance accurate when the mean is large against the spread.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <vector>

#include "kernels/batch_renorm.h"

namespace ar1::kernels::cpu {

namespace {

constexpr int64_t kLanes = 8;
constexpr int64_t kBlockElements = int64_t{1} << 14;

int64_t block_rows(int64_t c) { return std::max<int64_t>(1, kBlockElements / c); }

// Per-channel sums s1 = sum(u), s2 = sum(v) over all elements, with u, v given per element by
// term(x_index, channel, u, v). Layout-specific loops, the same fixed order for any thread count.
template <class Term>
void planar_sums(const BatchReNormDesc& d, double* s1, double* s2, Term term) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.c; ++c) {
    double l1[kLanes] = {}, l2[kLanes] = {};
    for (int64_t i = 0; i < d.n; ++i) {
      const int64_t base = (i * d.c + c) * d.hw;
      int64_t j = 0;
      for (; j + kLanes <= d.hw; j += kLanes) {
        for (int64_t l = 0; l < kLanes; ++l) term(base + j + l, c, l1[l], l2[l]);
      }
      for (int64_t l = 0; j < d.hw; ++j, ++l) term(base + j, c, l1[l], l2[l]);
    }
    double t1 = 0.0, t2 = 0.0;
    for (int64_t l = 0; l < kLanes; ++l) t1 += l1[l], t2 += l2[l];
    s1[c] = t1;
    s2[c] = t2;
  }
}

template <class Term>
void interleaved_sums(const BatchReNormDesc& d, double* s1, double* s2, Term term) {
  const int64_t rows = d.n * d.hw, per_block = block_rows(d.c);
  const int64_t blocks = (rows + per_block - 1) / per_block;
  std::vector<double> partial(static_cast<size_t>(blocks * 2 * d.c), 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    double* p1 = partial.data() + b * 2 * d.c;
    double* p2 = p1 + d.c;
    const int64_t end = std::min(rows, (b + 1) * per_block);
    for (int64_t r = b * per_block; r < end; ++r) {
      for (int64_t c = 0; c < d.c; ++c) term(r * d.c + c, c, p1[c], p2[c]);
    }
  }
  std::fill_n(s1, d.c, 0.0);
  std::fill_n(s2, d.c, 0.0);
  for (int64_t b = 0; b < blocks; ++b) {
    const double* p1 = partial.data() + b * 2 * d.c;
    for (int64_t c = 0; c < d.c; ++c) s1[c] += p1[c], s2[c] += p1[d.c + c];
  }
}

template <class Term>
void channel_sums(const BatchReNormDesc& d, double* s1, double* s2, Term term) {
  if (d.channels_last) {
    interleaved_sums(d, s1, s2, term);
  } else {
    planar_sums(d, s1, s2, term);
  }
}

// out[k] = f(k, channel) over every element, in parallel.
template <class F>
void for_each_element(const BatchReNormDesc& d, F f) {
  if (d.channels_last) {
    const int64_t rows = d.n * d.hw;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < d.c; ++c) f(r * d.c + c, c);
    }
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < d.n * d.c; ++row) {
      const int64_t c = row % d.c, base = row * d.hw;
      for (int64_t j = 0; j < d.hw; ++j) f(base + j, c);
    }
  }
}

// y = a x + b per channel, then the fused ReLU.
void apply_affine(float* y, const float* x, const float* a, const float* b,
                  const BatchReNormDesc& d) {
  if (d.relu) {
    for_each_element(d, [&](int64_t k, int64_t c) { y[k] = std::max(a[c] * x[k] + b[c], 0.f); });
  } else {
    for_each_element(d, [&](int64_t k, int64_t c) { y[k] = a[c] * x[k] + b[c]; });
  }
}

// The first element of each channel, the shift for the moments.
std::vector<double> first_values(const float* x, const BatchReNormDesc& d) {
  std::vector<double> shift(static_cast<size_t>(d.c));
  for (int64_t c = 0; c < d.c; ++c) shift[c] = x[d.channels_last ? c : c * d.hw];
  return shift;
}

}  // namespace

void batch_renorm_train_forward(float* y, const BatchReNormSaved& saved, float* running_mean,
                                float* running_std, const float* x, const float* gamma,
                                const float* beta, const BatchReNormDesc& d) {
  const double count = static_cast<double>(d.per_channel());
  const std::vector<double> shift = first_values(x, d);
  std::vector<double> s1(d.c), s2(d.c);
  channel_sums(d, s1.data(), s2.data(), [&](int64_t k, int64_t c, double& u, double& v) {
    const double t = static_cast<double>(x[k]) - shift[c];
    u += t;
    v += t * t;
  });
  std::vector<float> a(d.c), b(d.c);
  for (int64_t c = 0; c < d.c; ++c) {
    const double m = s1[c] / count;
    const double mu_b = shift[c] + m;
    const double var = std::max(0.0, s2[c] / count - m * m);  // biased
    const double s_b = std::sqrt(var + static_cast<double>(d.eps));
    const double sigma = running_std[c];
    const double r_max = d.r_max, d_max = d.d_max;
    const double r = std::clamp(s_b / sigma, 1.0 / r_max, r_max);
    const double dd = std::clamp((mu_b - running_mean[c]) / sigma, -d_max, d_max);

    // y = gamma ((x - mu_B) / s_B r + d) + beta = a x + b.
    const double g = gamma[c];
    const double ac = g * r / s_b;
    a[c] = static_cast<float>(ac);
    b[c] = static_cast<float>(g * dd + beta[c] - ac * mu_b);

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
  apply_affine(y, x, a.data(), b.data(), d);
}

void batch_renorm_eval_forward(float* y, const float* x, const float* gamma, const float* beta,
                               const float* running_mean, const float* running_std,
                               const BatchReNormDesc& d) {
  std::vector<float> a(d.c), b(d.c);
  for (int64_t c = 0; c < d.c; ++c) {
    // y = gamma (x - mu) / sigma + beta = a x + b.
    const double ac = static_cast<double>(gamma[c]) / running_std[c];
    a[c] = static_cast<float>(ac);
    b[c] = static_cast<float>(beta[c] - ac * running_mean[c]);
  }
  apply_affine(y, x, a.data(), b.data(), d);
}

void batch_renorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                           const float* y, const float* gamma, const float* mean,
                           const float* inv_std, const float* r, const float* d_shift,
                           const BatchReNormDesc& d) {
  const double count = static_cast<double>(d.per_channel());
  // dy where the fused ReLU let the value through, else +0. Written as a bit mask: GCC 12 keeps
  // `y > 0 ? dy : 0` as a branch here, which mispredicts on half the elements (10x slower).
  auto relu_masked = [&](int64_t k) {
    const uint32_t keep = 0u - static_cast<uint32_t>(y[k] > 0.f);
    return std::bit_cast<float>(std::bit_cast<uint32_t>(dy[k]) & keep);
  };
  // sum(g) and sum(g (x - mean)), g the ReLU-masked incoming gradient; xh = (x - mean) inv_std.
  // Separate instantiations with and without the mask keep both loops free of branches.
  // In evaluation dx = scale g does not depend on the sums: the same pass writes it.
  std::vector<double> sum_g(d.c), sum_gxc(d.c);
  const bool dx_in_same_pass = !d.training && dx != nullptr;
  std::vector<float> eval_scale(dx_in_same_pass ? d.c : 0);
  for (size_t c = 0; c < eval_scale.size(); ++c) {
    eval_scale[c] = static_cast<float>(static_cast<double>(gamma[c]) * r[c] * inv_std[c]);
  }
  auto sums = [&](auto grad_at) {
    if (dx_in_same_pass) {
      const float* scale = eval_scale.data();
      channel_sums(d, sum_g.data(), sum_gxc.data(),
                   [&](int64_t k, int64_t c, double& u, double& v) {
                     const float g = grad_at(k);
                     dx[k] = scale[c] * g;
                     u += g;
                     v += g * (static_cast<double>(x[k]) - mean[c]);
                   });
      return;
    }
    channel_sums(d, sum_g.data(), sum_gxc.data(), [&](int64_t k, int64_t c, double& u, double& v) {
      const double g = grad_at(k);
      u += g;
      v += g * (static_cast<double>(x[k]) - mean[c]);
    });
  };
  if (d.relu) {
    sums(relu_masked);
  } else {
    sums([&](int64_t k) { return dy[k]; });
  }
  // dx = scale (g - [training] (mean(g) + xh mean(g xh))), scale = gamma r / s, written as
  // dx = A g + B (x - mean) + D per channel.
  std::vector<float> coef_a(d.c), coef_b(d.c), coef_d(d.c);
  for (int64_t c = 0; c < d.c; ++c) {
    const double is = inv_std[c], rc = r[c];
    const double sum_gxh = sum_gxc[c] * is;
    if (dbeta != nullptr) dbeta[c] = static_cast<float>(sum_g[c]);
    if (dgamma != nullptr) dgamma[c] = static_cast<float>(rc * sum_gxh + d_shift[c] * sum_g[c]);
    const double scale = static_cast<double>(gamma[c]) * rc * is;
    const double mean_g = d.training ? sum_g[c] / count : 0.0;
    const double mean_gxh = d.training ? sum_gxh / count : 0.0;
    coef_a[c] = static_cast<float>(scale);
    coef_b[c] = static_cast<float>(-scale * mean_gxh * is);
    coef_d[c] = static_cast<float>(-scale * mean_g);
  }
  if (dx == nullptr || dx_in_same_pass) return;
  const float *A = coef_a.data(), *B = coef_b.data(), *D = coef_d.data();
  auto write_dx = [&](auto grad_at) {
    for_each_element(d, [&](int64_t k, int64_t c) {
      dx[k] = A[c] * grad_at(k) + B[c] * (x[k] - mean[c]) + D[c];
    });
  };
  if (d.relu) {
    write_dx(relu_masked);
  } else {
    write_dx([&](int64_t k) { return dy[k]; });
  }
}

}  // namespace ar1::kernels::cpu
