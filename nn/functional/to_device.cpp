#include "kernels/device.h"
#include "nn/functional.h"

namespace ar1::nn {

Tensor to_device(const Tensor& t, Device device) {
  check_defined(t, "to_device", "input");
  if (t.device() == device) return t;
  kernels::require_device(device);
  return t.to(device);
}

}  // namespace ar1::nn
