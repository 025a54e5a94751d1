#pragma once
// The replay memory's rows back to f32 (strategy/latent_replay_memory.h): f16 and bf16 as
// stored; u8 per channel as offset[c] + scale[c] q, a row being [channels, inner].
#include <cstdint>

#include "core/device.h"
#include "core/dtype.h"

namespace ar1::kernels {

struct DequantizeDesc {
  int64_t rows = 0, row_elems = 0;
  int64_t channels = 1;  // u8 only: scale and offset per channel
  DType dtype = DType::u8;
};

// out: [rows, row_elems] f32; q: the stored rows (dtype), scale / offset [channels] for u8.
void dequantize_rows(Device device, float* out, const void* q, const float* scale,
                     const float* offset, const DequantizeDesc& desc);

namespace cpu {
void dequantize_rows(float* out, const void* q, const float* scale, const float* offset,
                     const DequantizeDesc& desc);
}  // namespace cpu
namespace cuda {
void dequantize_rows(Device device, float* out, const void* q, const float* scale,
                     const float* offset, const DequantizeDesc& desc);
}  // namespace cuda

}  // namespace ar1::kernels
