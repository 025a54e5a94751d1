#pragma once
// Per-element math shared by a CPU kernel and its CUDA twin. A function marked AR1_HD compiles
// for both; the CPU kernel (or a test) calls the very function the GPU runs, so the GPU's math
// is exercised on machines without one. Only plain arithmetic here: no std:: algorithms, no
// exceptions. The comparisons below are written as std::max / std::clamp are, so NaNs pass the
// same way on both sides.
#include <cstdint>

#if defined(__CUDACC__)
#define AR1_HD __host__ __device__
#else
#define AR1_HD
#endif

namespace ar1::hd {

template <class T> AR1_HD inline T max_of(T a, T b) { return a < b ? b : a; }
template <class T> AR1_HD inline T min_of(T a, T b) { return b < a ? b : a; }
template <class T> AR1_HD inline T clamp_to(T v, T lo, T hi) {
  return v < lo ? lo : (hi < v ? hi : v);
}

}  // namespace ar1::hd
