#include "kernels/cross_entropy.h"

#include <cmath>

namespace ar1::kernels::cpu {

int64_t cross_entropy_forward(float* loss, float* log_probs, const float* logits,
                              const int64_t* labels, const CrossEntropyDesc& d) {
  for (int64_t i = 0; i < d.n; ++i) {
    if (labels[i] < 0 || labels[i] >= d.classes) return i;
  }
  double total = 0.0;
  for (int64_t i = 0; i < d.n; ++i) {
    const float* z = logits + i * d.classes;
    float* lp = log_probs + i * d.classes;
    float zmax = z[0];
    for (int64_t c = 1; c < d.classes; ++c) zmax = std::fmax(zmax, z[c]);
    double sum = 0.0;
    for (int64_t c = 0; c < d.classes; ++c) sum += std::exp(static_cast<double>(z[c] - zmax));
    const float log_sum = static_cast<float>(std::log(sum)) + zmax;
    for (int64_t c = 0; c < d.classes; ++c) lp[c] = z[c] - log_sum;
    total -= lp[labels[i]];
  }
  *loss = d.n > 0 ? static_cast<float>(total / static_cast<double>(d.n)) : 0.f;
  return -1;
}

void cross_entropy_backward(float* dlogits, const float* log_probs, const int64_t* labels,
                            float grad_loss, const CrossEntropyDesc& d) {
  const float scale = d.n > 0 ? grad_loss / static_cast<float>(d.n) : 0.f;
  for (int64_t i = 0; i < d.n; ++i) {
    const float* lp = log_probs + i * d.classes;
    float* g = dlogits + i * d.classes;
    for (int64_t c = 0; c < d.classes; ++c) g[c] = std::exp(lp[c]) * scale;
    g[labels[i]] -= scale;
  }
}

}  // namespace ar1::kernels::cpu
