// Strided gathers, dtype conversions, fill and add for core's tensors on a GPU (Tensor::
// contiguous, to_channels_last, to(DType), zeros/full, gradient sums). The index and conversion
// math is the CPU's (kernels/math/strided_index.h, core/half.h).
#include "core/half.h"
#include "core/error.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/tensor_copy.h"
#include "kernels/math/strided_index.h"

namespace ar1::kernels::cuda {

namespace {

template <class T>
void gather_typed(Context& ctx, void* dst, const void* src, const StridedView& v) {
  int64_t n = 1;
  for (int d = 0; d < v.ndim; ++d) n *= v.shape[d];
  T* out = static_cast<T*>(dst);
  const T* in = static_cast<const T*>(src);
  for_each_index(ctx, n, [=] __device__(int64_t i) { out[i] = in[math::strided_offset(i, v)]; },
                 "contiguous");
}

__device__ inline float load_as_f32(const void* src, DType t, int64_t i) {
  switch (t) {
    case DType::f32: return static_cast<const float*>(src)[i];
    case DType::u8: return static_cast<const uint8_t*>(src)[i];
    case DType::f16: return half_to_float(static_cast<const uint16_t*>(src)[i]);
    case DType::bf16: return bfloat16_to_float(static_cast<const uint16_t*>(src)[i]);
    default: return 0.f;
  }
}

__device__ inline void store_from_f32(void* dst, DType t, int64_t i, float v) {
  switch (t) {
    case DType::f32: static_cast<float*>(dst)[i] = v; break;
    case DType::u8: static_cast<uint8_t*>(dst)[i] = float_to_u8(v); break;
    case DType::f16: static_cast<uint16_t*>(dst)[i] = float_to_half(v); break;
    case DType::bf16: static_cast<uint16_t*>(dst)[i] = float_to_bfloat16(v); break;
    default: break;
  }
}

}  // namespace

void gather_strided(Context& ctx, void* dst, const void* src, const StridedView& view,
                    size_t elem_bytes) {
  switch (elem_bytes) {
    case 1: return gather_typed<uint8_t>(ctx, dst, src, view);
    case 2: return gather_typed<uint16_t>(ctx, dst, src, view);
    case 4: return gather_typed<uint32_t>(ctx, dst, src, view);
    case 8: return gather_typed<uint64_t>(ctx, dst, src, view);
    default: AR1_FAIL("[contiguous] unsupported element size ", elem_bytes);
  }
}

void convert(Context& ctx, void* dst, DType dst_dtype, const void* src, DType src_dtype,
             int64_t n) {
  AR1_CHECK(dst_dtype != DType::i64 && src_dtype != DType::i64,
            "[to] i64 conversions on a GPU go through the host (Tensor::to)");
  for_each_index(ctx, n, [=] __device__(int64_t i) {
    store_from_f32(dst, dst_dtype, i, load_as_f32(src, src_dtype, i));
  }, "to(dtype)");
}

void fill_f32(Context& ctx, float* dst, float value, int64_t n) {
  for_each_index(ctx, n, [=] __device__(int64_t i) { dst[i] = value; }, "fill");
}

void add_f32(Context& ctx, float* y, const float* a, const float* b, int64_t n) {
  for_each_index(ctx, n, [=] __device__(int64_t i) { y[i] = a[i] + b[i]; }, "add");
}

}  // namespace ar1::kernels::cuda
