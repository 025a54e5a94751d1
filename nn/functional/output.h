#pragma once
// Helpers shared by the functional ops: output allocation on a device, and the checks every op
// repeats.
#include <initializer_list>

#include "core/tensor.h"

namespace ar1::nn::detail {

// Uninitialised dense tensor on `device`.
Tensor empty_on(const Shape& shape, Device device, DType dtype = DType::f32);

// The op's result buffer: `out` when given (checked: shape, dtype, device, contiguous; refused
// when a gradient is needed, since the graph would save a buffer the caller may overwrite),
// else a fresh tensor.
Tensor make_output(const Tensor& out, const Shape& shape, Device device, bool needs_grad,
                   const char* op);

// Defined, f32, plain; contiguous copy when strided. Throws naming op and what.
Tensor dense_f32(const Tensor& t, const char* op, const char* what);

void check_rank(const Tensor& t, int64_t rank, const char* op, const char* what);

// Channels-last support (core/memory_format.h) for the ops that run on it: conv2d,
// batch_renorm, relu. "Channels-last" here means stored so and not also contiguous (a tensor
// with C == 1 or H W == 1 is both, and then the plain kernels serve).
bool stored_channels_last(const Tensor& t);
// As dense_f32, but a channels-last tensor is kept as it is.
Tensor dense_f32_keep_format(const Tensor& t, const char* op, const char* what);
// `t` (any strides) as a dense tensor in the requested format; itself when already so.
Tensor in_format(const Tensor& t, bool channels_last);
// Uninitialised dense tensor in the requested format.
Tensor empty_in_format(const Shape& shape, Device device, bool channels_last);

}  // namespace ar1::nn::detail

namespace ar1::nn::detail {
// Element pointer of a dense f32 tensor on any device (kernels take raw pointers).
inline float* f32(const Tensor& t) { return static_cast<float*>(t.raw_data()); }
}  // namespace ar1::nn::detail
