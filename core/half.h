#pragma once
// f32 <-> f16 / bf16 bit conversions, round to nearest even, NaN and infinity preserved; and
// f32 -> u8, saturating (NaN -> 0) and rounding half to even. Inline and AR1_HD: the CPU and the CUDA kernels (replay memory, Tensor::to on a GPU) run this
// one implementation.
#include <cstdint>
#include <cstring>

#include "core/hd.h"

#if !defined(__CUDA_ARCH__)
#include <cmath>
#endif

namespace ar1 {

namespace hd {
AR1_HD inline uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
AR1_HD inline float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
}  // namespace hd

AR1_HD inline uint16_t float_to_half(float f) {
  const uint32_t x = hd::bits_of(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN (keep NaN quiet and non-zero)
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {  // subnormal half (or zero): scale by 2^24 and round
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);  // below half of the smallest
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - exp;  // 113 - exp + 13
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half_way = 1u << (shift - 1u);
    if (rem > half_way || (rem == half_way && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = ((abs - 0x38000000u) >> 13);
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

AR1_HD inline float half_to_float(uint16_t h) {
  const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0x1fu) {
    x = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    x = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    x = sign;
  } else {  // subnormal: normalise
    uint32_t e = 113u;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    x = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  return hd::float_of(x);
}

AR1_HD inline uint16_t float_to_bfloat16(float f) {
  const uint32_t x = hd::bits_of(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

AR1_HD inline float bfloat16_to_float(uint16_t b) {
  return hd::float_of(static_cast<uint32_t>(b) << 16);
}

// As fmin(fmax(v, 0), 255) then nearbyint in the default rounding mode.
AR1_HD inline uint8_t float_to_u8(float v) {
  const float c = hd::min_of(v != v ? 0.f : hd::max_of(v, 0.f), 255.f);
#if defined(__CUDA_ARCH__)
  return static_cast<uint8_t>(rintf(c));
#else
  return static_cast<uint8_t>(std::nearbyint(c));
#endif
}

}  // namespace ar1
