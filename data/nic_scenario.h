#pragma once
// New-instances-and-classes benchmark of SPEC.md section 3c, for any labelled dataset:
//   1. fix a seeded random class order;
//   2. experience 0 holds the first `first_classes` classes of that order, a seeded random
//      `first_fraction` of each one's images (floor(n * fraction) images of a class of n);
//   3. everything left (the rest of those classes and all of the others) is cut into
//      `n_chunks` single-class chunks: chunk counts are spread over the classes in proportion
//      to their remaining images by the largest-remainder method, at least one chunk each; a
//      class's remaining images are split into its chunks as evenly as possible;
//   4. the chunks become experiences 1..n_chunks in a seeded random order.
// New classes therefore appear one at a time and old ones come back, as in CORe50 NICv2.
// The test stream is one experience holding the whole test set.
//
// Random draws, in this order, from one Generator(seed): the class order (randperm), each
// class's image shuffle (in class order), the chunk order (randperm).
#include <cstdint>
#include <vector>

#include "data/scenario.h"

namespace ar1::data {

struct NicOptions {
  int64_t first_classes = 4;
  double first_fraction = 0.5;
  int64_t n_chunks = 20;
  uint64_t seed = 0;
};

Benchmark nic_benchmark(DatasetPtr train, DatasetPtr test, const NicOptions& options);

// Step 3's allocation on its own: chunks per class for `remaining` images per class (in class
// order), summing to n_chunks, at least one for each class with images, never more than a
// class's images. Ties in the remainders go to the class earlier in the order.
std::vector<int64_t> allocate_chunks(const std::vector<int64_t>& remaining, int64_t n_chunks);

}  // namespace ar1::data
