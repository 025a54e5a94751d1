#pragma once
// Log-softmax + cross-entropy of one row (kernels/cross_entropy.h), shared by the CPU kernel and
// its CUDA twin: the max, then sum(exp) in double, in class order; exp and log are our own
// (core/portable_math.h), the same bits on every machine.
#include <cmath>

#include "core/hd.h"
#include "core/portable_math.h"
#include "kernels/cross_entropy.h"

namespace ar1::kernels::math {

AR1_HD inline bool label_valid(int64_t label, const CrossEntropyDesc& d) {
  return label >= 0 && label < d.classes;
}

// Writes the row's log-probabilities and returns its loss -log p[label].
AR1_HD inline double log_softmax_row(float* lp, const float* z, int64_t label,
                                     const CrossEntropyDesc& d) {
  float zmax = z[0];
  for (int64_t c = 1; c < d.classes; ++c) zmax = fmaxf(zmax, z[c]);
  double sum = 0.0;
  for (int64_t c = 0; c < d.classes; ++c) {
    sum += portable_math::exp(static_cast<double>(z[c] - zmax));
  }
  const float log_sum = static_cast<float>(portable_math::log(sum)) + zmax;
  for (int64_t c = 0; c < d.classes; ++c) lp[c] = z[c] - log_sum;
  return -static_cast<double>(lp[label]);
}

// dlogits of one element: (p - onehot) grad_loss / n.
AR1_HD inline float cross_entropy_grad(float log_prob, bool is_label, float scale) {
  const float p = static_cast<float>(portable_math::exp(log_prob));
  return is_label ? p * scale - scale : p * scale;
}

AR1_HD inline float cross_entropy_scale(float grad_loss, const CrossEntropyDesc& d) {
  return d.n > 0 ? grad_loss / static_cast<float>(d.n) : 0.f;
}

}  // namespace ar1::kernels::math
