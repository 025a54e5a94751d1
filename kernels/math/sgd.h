#pragma once
// One element of the SGD step (kernels/sgd.h), shared by the CPU loop and the CUDA kernel.
#include "core/hd.h"
#include "kernels/sgd.h"

namespace ar1::kernels::math {

AR1_HD inline void sgd_element(float* w, float* v, float g, const SgdDesc& s) {
  float d = g;
  if (s.weight_decay != 0.f) d += s.weight_decay * *w;
  if (s.momentum != 0.f) {
    *v = s.first ? d : s.momentum * *v + d;
    d = *v;
  }
  *w -= s.lr * d;
}

}  // namespace ar1::kernels::math
