#include "kernels/cross_entropy.h"

#include "kernels/math/cross_entropy.h"

namespace ar1::kernels::cpu {

int64_t cross_entropy_forward(float* loss, float* log_probs, const float* logits,
                              const int64_t* labels, const CrossEntropyDesc& d) {
  for (int64_t i = 0; i < d.n; ++i) {
    if (!math::label_valid(labels[i], d)) return i;
  }
  double total = 0.0;
  for (int64_t i = 0; i < d.n; ++i) {
    total += math::log_softmax_row(log_probs + i * d.classes, logits + i * d.classes, labels[i], d);
  }
  *loss = d.n > 0 ? static_cast<float>(total / static_cast<double>(d.n)) : 0.f;
  return -1;
}

void cross_entropy_backward(float* dlogits, const float* log_probs, const int64_t* labels,
                            const float* grad_loss, const CrossEntropyDesc& d) {
  const float scale = math::cross_entropy_scale(*grad_loss, d);
  for (int64_t i = 0; i < d.n; ++i) {
    const float* lp = log_probs + i * d.classes;
    float* g = dlogits + i * d.classes;
    for (int64_t c = 0; c < d.classes; ++c) g[c] = math::cross_entropy_grad(lp[c], c == labels[i], scale);
  }
}

}  // namespace ar1::kernels::cpu
