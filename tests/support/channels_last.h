#pragma once
// Test helper: a dense [n, c, hw] buffer in channels-last order [n, hw, c], and back, for
// comparing channels-last kernels with planar references.
#include <cstdint>
#include <vector>

namespace ar1::testing {

// [n, c, hw] -> [n, hw, c] (to_channels_last) or back.
inline std::vector<float> relayout(const std::vector<float>& v, int64_t n, int64_t c, int64_t hw,
                                   bool to_channels_last) {
  std::vector<float> out(v.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) {
        const int64_t planar = (i * c + ch) * hw + p, last = (i * hw + p) * c + ch;
        out[to_channels_last ? last : planar] = v[to_channels_last ? planar : last];
      }
  return out;
}

}  // namespace ar1::testing
