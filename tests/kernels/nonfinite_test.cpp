// kernels::any_nonfinite on the CPU: every kind of non-finite value, anywhere in the buffer,
// on both the sequential and the threaded path.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/reduce.h"

using namespace ar1;

TEST_CASE("any_nonfinite finds a nan or an infinity anywhere and nothing in finite data") {
  for (const int64_t n : {int64_t{1}, int64_t{17}, int64_t{1} << 20}) {
    CAPTURE(n);
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      x[static_cast<size_t>(i)] = std::ldexp(i % 2 ? -1.f : 1.f, static_cast<int>(i % 250) - 125);
    }
    x[0] = std::numeric_limits<float>::max();
    if (n > 1) x[1] = std::numeric_limits<float>::denorm_min();
    CHECK_FALSE(kernels::any_nonfinite(Device::cpu(), x.data(), n));
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(),
                            -std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()}) {
      for (const int64_t at : {int64_t{0}, n / 2, n - 1}) {
        const float keep = x[static_cast<size_t>(at)];
        x[static_cast<size_t>(at)] = bad;
        CHECK(kernels::any_nonfinite(Device::cpu(), x.data(), n));
        x[static_cast<size_t>(at)] = keep;
      }
    }
  }
  CHECK_FALSE(kernels::any_nonfinite(Device::cpu(), nullptr, 0));
}
