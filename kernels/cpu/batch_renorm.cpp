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
#include <cstdint>
#include <cmath>
#include <vector>

#include "kernels/batch_renorm.h"
#include "kernels/cpu/batch_renorm_fusion.h"
#include "kernels/math/batch_renorm.h"

namespace ar1::kernels::cpu {

namespace {

constexpr int64_t kLanes = 8;

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
  const int64_t rows = d.n * d.hw, per_block = batch_renorm_block_rows(d.c);
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

// y = a x + b per channel, then the fused ReLU (one instantiation each, free of branches).
void apply_affine(float* y, const float* x, const float* a, const float* b,
                  const BatchReNormDesc& d) {
  if (d.relu) {
    for_each_element(d, [&](int64_t k, int64_t c) {
      y[k] = math::batch_renorm_affine(x[k], a[c], b[c], true);
    });
  } else {
    for_each_element(d, [&](int64_t k, int64_t c) {
      y[k] = math::batch_renorm_affine(x[k], a[c], b[c], false);
    });
  }
}

std::vector<double> first_values(const float* x, const BatchReNormDesc& d) {
  std::vector<double> shift(static_cast<size_t>(d.c));
  for (int64_t c = 0; c < d.c; ++c) shift[c] = math::batch_renorm_shift(x, c, d);
  return shift;
}

}  // namespace

void batch_renorm_train_forward(float* y, const BatchReNormSaved& saved, float* running_mean,
                                float* running_std, const float* x, const float* gamma,
                                const float* beta, const BatchReNormDesc& d) {
  const std::vector<double> shift = first_values(x, d);
  std::vector<double> s1(d.c), s2(d.c);
  channel_sums(d, s1.data(), s2.data(), [&](int64_t k, int64_t c, double& u, double& v) {
    const double t = static_cast<double>(x[k]) - shift[c];
    u += t;
    v += t * t;
  });
  std::vector<float> a(d.c), b(d.c);
  for (int64_t c = 0; c < d.c; ++c) {
    const math::BatchReNormChannel ch = math::batch_renorm_train_channel(
        s1[c], s2[c], shift[c], gamma[c], beta[c], running_mean[c], running_std[c], d);
    a[c] = ch.a;
    b[c] = ch.b;
    // Saved for backward (mean, inv_std, r, d) and the running update (std).
    saved.mean[c] = ch.mean;
    saved.std[c] = ch.std;
    saved.inv_std[c] = ch.inv_std;
    saved.r[c] = ch.r;
    saved.d[c] = ch.d;
    if (saved.affine != nullptr) {
      saved.affine[c] = ch.a;
      saved.affine[d.c + c] = ch.b;
    }
    running_mean[c] = math::batch_renorm_running(running_mean[c], ch.mean, d.momentum);
    running_std[c] = math::batch_renorm_running(running_std[c], ch.std, d.momentum);
  }
  apply_affine(y, x, a.data(), b.data(), d);
}

void batch_renorm_eval_forward(float* y, const float* x, const float* gamma, const float* beta,
                               const float* running_mean, const float* running_std,
                               const BatchReNormDesc& d) {
  std::vector<float> a(d.c), b(d.c);
  for (int64_t c = 0; c < d.c; ++c) {
    math::batch_renorm_eval_channel(gamma[c], beta[c], running_mean[c], running_std[c], &a[c],
                                    &b[c]);
  }
  apply_affine(y, x, a.data(), b.data(), d);
}

void batch_renorm_apply_saved(float* y, const float* x, const float* affine,
                              const BatchReNormDesc& d) {
  apply_affine(y, x, affine, affine + d.c, d);
}

void batch_renorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                           const float* y, const float* gamma, const float* mean,
                           const float* inv_std, const float* r, const float* d_shift,
                           const BatchReNormDesc& d, const float* relu_affine) {
  // dy where the fused ReLU let the value through, else +0 (relu_masked_grad). The output is y
  // itself or, with relu_affine, the forward's a x + b computed again (the same bits, without a
  // pass over y).
  auto masked = [&](int64_t k, float out) { return relu_masked_grad(dy[k], out); };
  const float* fa = relu_affine;
  const float* fb = relu_affine != nullptr ? relu_affine + d.c : nullptr;
  auto relu_masked = [&](int64_t k, int64_t) { return masked(k, y[k]); };
  auto affine_masked = [&](int64_t k, int64_t c) {
    return masked(k, math::batch_renorm_affine(x[k], fa[c], fb[c], false));
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
                     const float g = grad_at(k, c);
                     dx[k] = scale[c] * g;
                     u += g;
                     v += g * (static_cast<double>(x[k]) - mean[c]);
                   });
      return;
    }
    channel_sums(d, sum_g.data(), sum_gxc.data(), [&](int64_t k, int64_t c, double& u, double& v) {
      const double g = grad_at(k, c);
      u += g;
      v += g * (static_cast<double>(x[k]) - mean[c]);
    });
  };
  auto plain = [&](int64_t k, int64_t) { return dy[k]; };
  if (d.relu && relu_affine != nullptr) {
    sums(affine_masked);
  } else if (d.relu) {
    sums(relu_masked);
  } else {
    sums(plain);
  }
  // dx = scale (g - [training] (mean(g) + xh mean(g xh))), scale = gamma r / s, written as
  // dx = A g + B (x - mean) + D per channel.
  std::vector<float> coef_a(d.c), coef_b(d.c), coef_d(d.c);
  for (int64_t c = 0; c < d.c; ++c) {
    const math::BatchReNormGradChannel ch = math::batch_renorm_grad_channel(
        sum_g[c], sum_gxc[c], gamma[c], inv_std[c], r[c], d_shift[c], d);
    if (dbeta != nullptr) dbeta[c] = ch.dbeta;
    if (dgamma != nullptr) dgamma[c] = ch.dgamma;
    coef_a[c] = ch.a;
    coef_b[c] = ch.b;
    coef_d[c] = ch.d;
  }
  if (dx == nullptr || dx_in_same_pass) return;
  const float *A = coef_a.data(), *B = coef_b.data(), *D = coef_d.data();
  auto write_dx = [&](auto grad_at) {
    for_each_element(d, [&](int64_t k, int64_t c) {
      dx[k] = math::batch_renorm_dx(grad_at(k, c), x[k], mean[c], A[c], B[c], D[c]);
    });
  };
  if (d.relu && relu_affine != nullptr) {
    write_dx(affine_masked);
  } else if (d.relu) {
    write_dx(relu_masked);
  } else {
    write_dx(plain);
  }
}

void batch_renorm_eval_affine(float* scale, float* shift, const float* gamma, const float* beta,
                              const float* running_mean, const float* running_std, int64_t c) {
  for (int64_t i = 0; i < c; ++i) {
    math::batch_renorm_eval_channel(gamma != nullptr ? gamma[i] : 1.f,
                                    beta != nullptr ? beta[i] : 0.f, running_mean[i],
                                    running_std[i], &scale[i], &shift[i]);
  }
}

void batch_renorm_folded_grads(float* dw, float* dgamma, const float* dfolded, const float* w,
                               const float* scale, const float* db, const float* running_mean,
                               const float* running_std, const FoldedGradDesc& d) {
  for (int64_t o = 0; o < d.c; ++o) {
    const int64_t begin = o * d.per_out, end = begin + d.per_out;
    if (dw != nullptr) {
      for (int64_t i = begin; i < end; ++i) dw[i] = dfolded[i] * scale[o];
    }
    if (dgamma != nullptr) {
      double ds = 0.0;
      for (int64_t i = begin; i < end; ++i) ds += static_cast<double>(dfolded[i]) * w[i];
      dgamma[o] = math::batch_renorm_folded_dgamma(ds, db[o], running_mean[o], running_std[o]);
    }
  }
}

}  // namespace ar1::kernels::cpu
