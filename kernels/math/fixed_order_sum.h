#pragma once
// The summation order of the CUDA reductions, fixed by the shape alone so that reruns give the
// same bits (no atomics): a reduction of `count` terms is cut into `chunks` consecutive chunks
// (one thread block each); within a chunk thread t takes the terms t, t + kThreads, ... in
// order; the kThreads partials are added in a fixed tree (tree_reduce_step for s = kThreads/2,
// ..., 1); the chunks' totals are added by one more tree. Everything in double.
//
// The device code (kernels/cuda/fixed_order_sum.cuh) and the CPU emulation in the tests
// (tree_sum below) follow these same functions.
#include "core/hd.h"

namespace ar1::kernels::math {

inline constexpr int kReduceThreads = 256;
// Terms per chunk before a reduction is spread over more blocks; at most kReduceThreads chunks.
inline constexpr int64_t kReduceChunkTerms = 16384;

AR1_HD inline int64_t reduction_chunks(int64_t count) {
  const int64_t chunks = (count + kReduceChunkTerms - 1) / kReduceChunkTerms;
  return hd::clamp_to<int64_t>(chunks, 1, kReduceThreads);
}

// Terms [begin, end) of chunk g.
AR1_HD inline int64_t chunk_begin(int64_t g, int64_t count, int64_t chunks) {
  const int64_t per = (count + chunks - 1) / chunks;
  return hd::min_of(count, g * per);
}

// One step of the tree over kReduceThreads partials: p[t] += p[t + s] for t < s.
AR1_HD inline void tree_reduce_step(double* p, int t, int s) {
  if (t < s) p[t] += p[t + s];
}

// The tree, run sequentially (CPU emulation of a block); p holds kReduceThreads partials.
inline double tree_sum(double* p) {
  for (int s = kReduceThreads / 2; s > 0; s >>= 1) {
    for (int t = 0; t < s; ++t) tree_reduce_step(p, t, s);
  }
  return p[0];
}

}  // namespace ar1::kernels::math
