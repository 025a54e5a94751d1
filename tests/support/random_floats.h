#pragma once
// count standard-normal floats from the seeded generator (core/rng.h), as a plain vector.
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace ar1::testing {

inline std::vector<float> random_floats(int64_t count, uint64_t seed) {
  Generator gen(seed);
  const Tensor t = normal({count}, gen);
  return {t.data<float>(), t.data<float>() + count};
}

}  // namespace ar1::testing
