#pragma once
// Class-incremental benchmark (Avalanche's nc_benchmark): the classes are put in an order
// (given, seeded shuffle, or ascending) and cut into n_experiences groups; train experience i
// holds every training image of group i, test experience i every test image of group i.
#include <cstdint>
#include <optional>
#include <vector>

#include "data/scenario.h"

namespace ar1::data {

struct NcOptions {
  int64_t n_experiences = 5;
  // 0: all experiences get (classes / n_experiences) classes. Otherwise the first experience
  // gets this many and the rest share the others evenly.
  int64_t first_experience_classes = 0;
  bool shuffle_classes = true;  // seeded class order; false: ascending
  uint64_t seed = 0;
  // When set, this order is used as is (a permutation of the classes present in train).
  std::optional<std::vector<int64_t>> fixed_class_order;
};

Benchmark nc_benchmark(DatasetPtr train, DatasetPtr test, const NcOptions& options);

}  // namespace ar1::data
