#include "kernels/device.h"
#include "nn/functional.h"
#include "nn/functional/output.h"

namespace ar1::nn {

Tensor to_device(const Tensor& t_in, Device device) {
  check_defined(t_in, "to_device", "input");
  if (t_in.device() == device) return t_in;
  kernels::require_device(device);
  const Tensor t = t_in.device().is_cpu() ? t_in.contiguous() : t_in;
  AR1_CHECK(t.is_contiguous(), "[to_device] ", t.describe(), " must be contiguous to move");
  Tensor out = detail::empty_on(t.shape(), device, t.dtype());
  kernels::copy_bytes(out.raw_data(), device, t.raw_data(), t.device(),
                      static_cast<size_t>(t.numel()) * dtype_size(t.dtype()));
  return out;
}

}  // namespace ar1::nn
