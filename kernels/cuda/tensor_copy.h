#pragma once
// Launchers of the data-movement kernels behind core's DeviceBackend (kernels/cuda/backend.cpp):
// strided gathers, dtype conversions, fill and add. All on the context's stream.
#include <cstddef>
#include <cstdint>

#include "core/device_backend.h"
#include "core/dtype.h"

namespace ar1::kernels::cuda {

class Context;

void gather_strided(Context& ctx, void* dst, const void* src, const StridedView& view,
                    size_t elem_bytes);
void convert(Context& ctx, void* dst, DType dst_dtype, const void* src, DType src_dtype,
             int64_t n);
void fill_f32(Context& ctx, float* dst, float value, int64_t n);
void add_f32(Context& ctx, float* y, const float* a, const float* b, int64_t n);

}  // namespace ar1::kernels::cuda
