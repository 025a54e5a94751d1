// Our exp, log and sin/cos of a turn (core/portable_math.h) against the C library: exp and log
// within 3 ulp of glibc's (itself within 1 ulp of the truth), sin and cos within 2 ulp of 1 of
// long double values, the special values the same, and a few values pinned bit for bit, which
// hold on every machine.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <numbers>

#include "core/portable_math.h"

namespace {

namespace pm = ar1::portable_math;

// Distance in ulps between two finite doubles of the same sign.
int64_t ulps(double a, double b) {
  const int64_t ia = std::bit_cast<int64_t>(a), ib = std::bit_cast<int64_t>(b);
  return ia > ib ? ia - ib : ib - ia;
}

// A fixed sequence of doubles in [0, 1).
struct Uniform {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  double next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) * 0x1.0p-53;
  }
};

constexpr int64_t kMaxUlps = 3;
constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("portable exp is within 3 ulp of the C library's over its whole range") {
  Uniform u;
  int64_t worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double x = -745.0 + 1454.0 * u.next();
    const double want = std::exp(x);
    if (want < std::numeric_limits<double>::min()) continue;  // subnormal: absolute check below
    worst = std::max(worst, ulps(pm::exp(x), want));
  }
  for (double x : {0.0, 1e-300, -1e-300, 1e-10, 0.5, -0.5, 1.0, -1.0, 20.0, -20.0}) {
    worst = std::max(worst, ulps(pm::exp(x), std::exp(x)));
  }
  MESSAGE("exp: worst " << worst << " ulp");
  CHECK(worst <= kMaxUlps);
  CHECK(pm::exp(0.0) == 1.0);
  CHECK(pm::exp(1000.0) == kInf);
  CHECK(pm::exp(-1000.0) == 0.0);
  CHECK(pm::exp(-kInf) == 0.0);
  CHECK(std::isnan(pm::exp(std::nan(""))));
  // Into the subnormals: the absolute error stays below the smallest subnormal.
  CHECK(std::abs(pm::exp(-744.0) - std::exp(-744.0)) <= std::numeric_limits<double>::denorm_min());
  CHECK(std::abs(pm::exp(-710.0) - std::exp(-710.0)) <=
        4.0 * std::numeric_limits<double>::denorm_min());
}

TEST_CASE("portable log is within 3 ulp of the C library's") {
  Uniform u;
  int64_t worst = 0;
  for (int i = 0; i < 200000; ++i) {
    // Over the exponents of doubles, and densely around 1, where log is hardest.
    const int exponent = static_cast<int>(u.next() * 2000) - 1000;
    const double x = i % 2 == 0 ? std::ldexp(0.5 + u.next(), exponent) : 0.9 + 0.2 * u.next();
    worst = std::max(worst, ulps(std::abs(pm::log(x)), std::abs(std::log(x))));
  }
  MESSAGE("log: worst " << worst << " ulp");
  CHECK(worst <= kMaxUlps);
  CHECK(pm::log(1.0) == 0.0);
  CHECK(pm::log(0.0) == -kInf);
  CHECK(pm::log(kInf) == kInf);
  CHECK(std::isnan(pm::log(-1.0)));
  CHECK(std::isnan(pm::log(std::nan(""))));
  CHECK(ulps(pm::log(std::numeric_limits<double>::denorm_min()),
             std::log(std::numeric_limits<double>::denorm_min())) <= kMaxUlps);
}

TEST_CASE("portable sin and cos of a turn are within 2 ulp of 1 of the true values") {
  Uniform u;
  double worst_sin = 0, worst_cos = 0;  // absolute, in ulps of 1: sin and cos cross zero
  for (int i = 0; i < 200000; ++i) {
    const double t = u.next();
    const pm::SinCos sc = pm::sincos_turn(t);
    // The reference in long double (64-bit significand), so 2 pi t is not rounded to double.
    const long double angle = 2.0L * std::numbers::pi_v<long double> * t;
    worst_sin = std::max(worst_sin, static_cast<double>(std::abs(sc.sin - std::sin(angle))));
    worst_cos = std::max(worst_cos, static_cast<double>(std::abs(sc.cos - std::cos(angle))));
  }
  MESSAGE("sin: worst " << worst_sin / 0x1.0p-52 << " ulp of 1, cos: " << worst_cos / 0x1.0p-52);
  CHECK(worst_sin <= 2 * 0x1.0p-52);
  CHECK(worst_cos <= 2 * 0x1.0p-52);
  CHECK(pm::sincos_turn(0.0).sin == 0.0);
  CHECK(pm::sincos_turn(0.0).cos == 1.0);
  CHECK(pm::sincos_turn(0.25).sin == 1.0);
  CHECK(pm::sincos_turn(0.5).cos == -1.0);
  CHECK(pm::sincos_turn(0.75).sin == -1.0);
}

TEST_CASE("portable math gives pinned bits") {
  // Computed once here; any machine, compiler or C library must give exactly these.
  CHECK(std::bit_cast<uint64_t>(pm::exp(0.1)) == 0x3ff1aec7b35a00d4ull);
  CHECK(std::bit_cast<uint64_t>(pm::exp(-3.7)) == 0x3f99511fc6871044ull);
  CHECK(std::bit_cast<uint64_t>(pm::log(3.0)) == 0x3ff193ea7aad030bull);
  CHECK(std::bit_cast<uint64_t>(pm::log(0.123)) == 0xc000c3bab03ad16eull);
  CHECK(std::bit_cast<uint64_t>(pm::sincos_turn(0.1).sin) == 0x3fe2cf2304755a5eull);
}
