#pragma once
// f32 <-> f16 / bf16 bit conversions, round to nearest even, NaN and infinity preserved.
#include <cstdint>

namespace ar1 {

uint16_t float_to_half(float f);
float half_to_float(uint16_t h);
uint16_t float_to_bfloat16(float f);
float bfloat16_to_float(uint16_t b);

}  // namespace ar1
