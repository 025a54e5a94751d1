// depthwise_vector_loops.inc compiled once per vector instruction set, each copy in its own
// namespace under its own target (GCC's target pragma, clang's attribute push), so an
// x86-64-v3 build still runs AVX-512 where the CPU has it.
#include "kernels/cpu/portable/depthwise_vector_loops.h"

#include <algorithm>

#include "kernels/cpu/portable/vector_isa.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)
#include <arm_neon.h>
#endif

namespace ar1::kernels::cpu::portable {

namespace scalar {
struct Vec {
  static constexpr int64_t kLanes = 1;
  using T = float;
  static T zero() { return 0.f; }
  static T load(const float* p) { return *p; }
  static void store(float* p, T v) { *p = v; }
  static T fma(T a, T b, T acc) { return __builtin_fmaf(a, b, acc); }
  static T add(T a, T b) { return a + b; }
  static T relu(T v) { return std::max(v, 0.f); }
  static void stream(float* p, T v) { *p = v; }
  static void fence() {}
};
#include "kernels/cpu/portable/depthwise_vector_loops.inc"
}  // namespace scalar

#if defined(__x86_64__)

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif
namespace avx512 {
struct Vec {
  static constexpr int64_t kLanes = 16;
  using T = __m512;
  static T zero() { return _mm512_setzero_ps(); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T fma(T a, T b, T acc) { return _mm512_fmadd_ps(a, b, acc); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  // std::max(v, 0.f) = v < 0 ? 0 : v (ordered: a NaN passes, -0 stays).
  static T relu(T v) {
    const T zero = _mm512_setzero_ps();
    return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero);
  }
  static void stream(float* p, T v) { _mm512_stream_ps(p, v); }  // p 64-byte aligned
  static void fence() { _mm_sfence(); }
};
#include "kernels/cpu/portable/depthwise_vector_loops.inc"
}  // namespace avx512
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
namespace avx2 {
struct Vec {
  static constexpr int64_t kLanes = 8;
  using T = __m256;
  static T zero() { return _mm256_setzero_ps(); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T fma(T a, T b, T acc) { return _mm256_fmadd_ps(a, b, acc); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  // std::max(v, 0.f): max_ps returns its second operand for a NaN and for two zeros.
  static T relu(T v) { return _mm256_max_ps(_mm256_setzero_ps(), v); }
  static void stream(float* p, T v) { _mm256_stream_ps(p, v); }  // p 32-byte aligned
  static void fence() { _mm_sfence(); }
};
#include "kernels/cpu/portable/depthwise_vector_loops.inc"
}  // namespace avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif  // __x86_64__

#if defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)
namespace neon {
struct Vec {
  static constexpr int64_t kLanes = 4;
  using T = float32x4_t;
  static T zero() { return vdupq_n_f32(0.f); }
  static T load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, T v) { vst1q_f32(p, v); }
  static T fma(T a, T b, T acc) { return vfmaq_f32(acc, a, b); }  // acc + a b, rounded once
  static T add(T a, T b) { return vaddq_f32(a, b); }
  // std::max(v, 0.f), NaN and -0 kept (vmaxq would turn -0 into +0).
  static T relu(T v) { return vbslq_f32(vcltq_f32(v, vdupq_n_f32(0.f)), vdupq_n_f32(0.f), v); }
  static void stream(float* p, T v) { vst1q_f32(p, v); }
  static void fence() {}
};
#include "kernels/cpu/portable/depthwise_vector_loops.inc"
}  // namespace neon
#endif

const DepthwiseLoops& depthwise_loops() {
  switch (vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512: {
      static const DepthwiseLoops loops{avx512::sum_gathered, avx512::sum_window_3x3,
                                          avx512::accumulate_window_3x3, avx512::store_rows,
                                          avx512::sum_window_taps};
      return loops;
    }
    case VectorIsa::avx2: {
      static const DepthwiseLoops loops{avx2::sum_gathered, avx2::sum_window_3x3,
                                          avx2::accumulate_window_3x3, avx2::store_rows,
                                          avx2::sum_window_taps};
      return loops;
    }
#endif
#if defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)
    case VectorIsa::neon: {
      static const DepthwiseLoops loops{neon::sum_gathered, neon::sum_window_3x3,
                                          neon::accumulate_window_3x3, neon::store_rows,
                                          neon::sum_window_taps};
      return loops;
    }
#endif
    default: {
      static const DepthwiseLoops loops{scalar::sum_gathered, scalar::sum_window_3x3,
                                          scalar::accumulate_window_3x3, scalar::store_rows,
                                          scalar::sum_window_taps};
      return loops;
    }
  }
}

}  // namespace ar1::kernels::cpu::portable
