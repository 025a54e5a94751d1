#include "kernels/sgd.h"

#include "kernels/math/sgd.h"

namespace ar1::kernels::cpu {

void sgd_update(float* w, float* velocity, const float* grad, const SgdDesc& desc) {
  float unused = 0.f;
  for (int64_t k = 0; k < desc.n; ++k) {
    math::sgd_element(w + k, velocity != nullptr ? velocity + k : &unused, grad[k], desc);
  }
}

}  // namespace ar1::kernels::cpu
