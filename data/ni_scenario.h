#pragma once
// Instance-incremental benchmark (Avalanche's ni_benchmark): the training images are cut into
// n_experiences parts of nearly equal size, each covering (in expectation) all classes. The
// test stream is one experience holding the whole test set.
#include <cstdint>

#include "data/scenario.h"

namespace ar1::data {

struct NiOptions {
  int64_t n_experiences = 5;
  bool shuffle = true;  // seeded; false: consecutive runs of the dataset order
  // true: every class is dealt evenly across experiences (each gets floor or ceil of its
  // share of each class); false: one shuffle of all images, cut into equal parts.
  bool balance_experiences = false;
  uint64_t seed = 0;
};

Benchmark ni_benchmark(DatasetPtr train, DatasetPtr test, const NiOptions& options);

}  // namespace ar1::data
