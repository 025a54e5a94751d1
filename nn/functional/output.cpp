#include "nn/functional/output.h"

#include "core/memory_format.h"

namespace ar1::nn::detail {

Tensor empty_on(const Shape& shape, Device device, DType dtype) {
  return Tensor::empty(shape, dtype, device);
}

Tensor make_output(const Tensor& out, const Shape& shape, Device device, bool needs_grad,
                   const char* op) {
  if (!out.defined()) return empty_on(shape, device);
  AR1_CHECK(!needs_grad, "[", op, "] an out= buffer cannot be used while a gradient is "
            "recorded; run under NoGradGuard or drop out=");
  AR1_CHECK(out.shape() == shape && out.dtype() == DType::f32 && out.device() == device &&
                out.is_contiguous(),
            "[", op, "] out= is ", out.describe(), ", expected a contiguous f32",
            shape_str(shape), " on ", device.str());
  return out;
}

namespace {

void check_f32_nonempty(const Tensor& t, const char* op, const char* what) {
  check_dtype(t, DType::f32, op, what);
  AR1_CHECK(t.numel() > 0, "[", op, "] ", what, " is empty: ", t.describe());
}

}  // namespace

Tensor dense_f32(const Tensor& t, const char* op, const char* what) {
  check_f32_nonempty(t, op, what);
  return t.contiguous();
}

bool stored_channels_last(const Tensor& t) { return is_channels_last(t) && !t.is_contiguous(); }

Tensor dense_f32_keep_format(const Tensor& t, const char* op, const char* what) {
  check_f32_nonempty(t, op, what);
  return is_channels_last(t) ? t : t.contiguous();
}

Tensor in_format(const Tensor& t, bool channels_last) {
  return channels_last ? t.to_channels_last() : t.contiguous();
}

Tensor empty_in_format(const Shape& shape, Device device, bool channels_last) {
  return channels_last ? empty_channels_last(shape, device) : empty_on(shape, device);
}

void check_rank(const Tensor& t, int64_t rank, const char* op, const char* what) {
  AR1_CHECK(t.dim() == rank, "[", op, "] ", what, " must have ", rank, " dims, got ",
            t.describe());
}

}  // namespace ar1::nn::detail
