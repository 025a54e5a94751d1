// The SGD step on a GPU, one thread per weight (kernels/math/sgd.h, the CPU's element math).
#include "kernels/cuda/launch.cuh"
#include "kernels/math/sgd.h"
#include "kernels/sgd.h"

namespace ar1::kernels::cuda {

void sgd_update(Device device, float* w, float* velocity, const float* grad, const SgdDesc& s) {
  for_each_index(Context::get(device), s.n, [=] __device__(int64_t k) {
    float unused = 0.f;
    math::sgd_element(w + k, velocity != nullptr ? velocity + k : &unused, grad[k], s);
  }, "sgd");
}

}  // namespace ar1::kernels::cuda
