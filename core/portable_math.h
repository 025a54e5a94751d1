#pragma once
// exp, log and the sine and cosine of a turn, in double, from + - * / alone: the same bits on
// every machine and C library. The system's libm gives no such promise: glibc picks its exp,
// log, sin and cos by CPU at load time (FMA and non-FMA variants), and ARM64, musl and other
// systems have their own, each within an ulp or so but not bit-equal. Training draws its
// initial weights through log, sin and cos (Generator::next_normal) and sums exp in the loss,
// so those go through here. Accuracy (tests/core/portable_math_test.cpp): exp and log within
// 3 ulp of glibc's, sin and cos within 2 ulp of 1; plenty for what they feed.
//
// Built with -ffp-contract=off (top-level CMakeLists.txt), so every line is computed as
// written. Shared with the CUDA twins of the CPU kernels (AR1_HD), where nvcc does contract
// a * b + c: the GPU's bits are its own.
#include <cmath>
#include <limits>

#include "core/hd.h"

namespace ar1::portable_math {

namespace detail {
// ln 2 split in two: kLn2Hi has 32 significant bits, so k * kLn2Hi is exact for |k| < 2^20.
constexpr double kLn2Hi = 0x1.62e42feep-1;
constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
constexpr double kInvLn2 = 0x1.71547652b82fep0;
constexpr double kTwoPi = 0x1.921fb54442d18p2;
}  // namespace detail

// e^x. Overflows to +inf above 709.79 and underflows to 0 below -745.2, like exp.
AR1_HD inline double exp(double x) {
  if (x != x) return x;
  if (x > 709.782712893384) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0.0;
  // x = k ln2 + r, |r| <= ln2 / 2 (Cody and Waite), then e^r by its Taylor series to r^13
  // (truncation below 2^-60 relative) and e^x = 2^k e^r.
  const double k = floor(x * detail::kInvLn2 + 0.5);
  const double r = (x - k * detail::kLn2Hi) - k * detail::kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  constexpr double kInverseFactorials[] = {1.0 / 479001600.0, 1.0 / 39916800.0,
                                           1.0 / 3628800.0,   1.0 / 362880.0,
                                           1.0 / 40320.0,     1.0 / 5040.0,
                                           1.0 / 720.0,       1.0 / 120.0,
                                           1.0 / 24.0,        1.0 / 6.0,
                                           0.5,               1.0,
                                           1.0};
  for (double c : kInverseFactorials) p = p * r + c;
  // Two steps, so that 2^k stays a normal number while p is scaled into the subnormals.
  const int ki = static_cast<int>(k);
  return ldexp(ldexp(p, ki / 2), ki - ki / 2);
}

// The natural logarithm: -inf at 0, NaN below.
AR1_HD inline double log(double x) {
  if (x != x || x == std::numeric_limits<double>::infinity()) return x;
  if (x == 0.0) return -std::numeric_limits<double>::infinity();
  if (x < 0.0) return std::numeric_limits<double>::quiet_NaN();
  // x = m 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1) / (m + 1),
  // |s| < 0.172, by its series to s^25 (truncation below 2^-60 relative).
  int e = 0;
  double m = frexp(x, &e);  // m in [1/2, 1), exact
  if (m < 0.70710678118654752) {
    m = m * 2.0;
    e = e - 1;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double series = 1.0 / 25.0;
  for (int n = 23; n >= 1; n -= 2) series = series * s2 + 1.0 / n;
  const double log_m = 2.0 * s * series;
  const double ed = static_cast<double>(e);
  return ed * detail::kLn2Hi + (ed * detail::kLn2Lo + log_m);
}

// sin(2 pi u) and cos(2 pi u) for u in [0, 1): the angle of a Box-Muller draw. The quadrant is
// taken from u itself, exactly (u - q/4 is representable), so only |2 pi f| <= pi/4 is left to
// the series (to a^19 and a^20: truncation below 2^-60).
struct SinCos {
  double sin, cos;
};
AR1_HD inline SinCos sincos_turn(double u) {
  const double q = floor(u * 4.0 + 0.5);
  const double f = u - q * 0.25;  // in [-1/8, 1/8], exact
  const double a = f * detail::kTwoPi;
  const double a2 = a * a;
  double s = 0.0, c = 0.0;
  // sin a = a (1 - a^2/(2 3) (1 - a^2/(4 5) (...))), cos a = 1 - a^2/(1 2) (1 - a^2/(3 4) (...)).
  s = 1.0;
  for (int n = 19; n >= 3; n -= 2) s = 1.0 - a2 / (n * (n - 1)) * s;
  s = a * s;
  c = 1.0;
  for (int n = 20; n >= 2; n -= 2) c = 1.0 - a2 / (n * (n - 1)) * c;
  switch (static_cast<int>(q) & 3) {
    case 0: return {s, c};
    case 1: return {c, -s};
    case 2: return {-s, -c};
    default: return {-c, s};
  }
}

}  // namespace ar1::portable_math
