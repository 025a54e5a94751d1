#pragma once
// Per-channel sums of two terms at once (Batch Renormalization needs sum(x) and sum(x^2), its
// backward sum(g) and sum(g x)), in the fixed order of kernels/math/fixed_order_sum.h:
//   stage 1, block (g, c): chunk g of channel c's terms, thread t taking t, t + 256, ...,
//            the block's partials added in the fixed tree;
//   stage 2, block c: the chunks' totals added in the same tree; thread 0 calls finish(c, u, v).
// term(c, j) returns the j-th pair of channel c. No atomics: reruns give the same bits.
#include <cstdint>

#include "core/error.h"
#include "kernels/cuda/launch.cuh"

namespace ar1::kernels::cuda {

struct TermPair {
  double u = 0.0, v = 0.0;
};

template <class Term>
__global__ void channel_chunk_sums_kernel(double* partial, int64_t count, int64_t chunks,
                                          Term term) {
  __shared__ double p[math::kReduceThreads];
  const int64_t g = blockIdx.x, c = blockIdx.y;
  const int64_t begin = math::chunk_begin(g, count, chunks);
  const int64_t end = math::chunk_begin(g + 1, count, chunks);
  double u = 0.0, v = 0.0;
  for (int64_t j = begin + threadIdx.x; j < end; j += math::kReduceThreads) {
    const TermPair t = term(c, j);
    u += t.u;
    v += t.v;
  }
  const double tu = block_tree_sum(p, u);
  const double tv = block_tree_sum(p, v);
  if (threadIdx.x == 0) {
    partial[(c * chunks + g) * 2] = tu;
    partial[(c * chunks + g) * 2 + 1] = tv;
  }
}

template <class Finish>
__global__ void channel_chunk_totals_kernel(const double* partial, int64_t chunks, Finish finish) {
  __shared__ double p[math::kReduceThreads];
  const int64_t c = blockIdx.x;
  const bool has = threadIdx.x < chunks;
  const double u = block_tree_sum(p, has ? partial[(c * chunks + threadIdx.x) * 2] : 0.0);
  const double v = block_tree_sum(p, has ? partial[(c * chunks + threadIdx.x) * 2 + 1] : 0.0);
  if (threadIdx.x == 0) finish(c, u, v);
}

template <class Term, class Finish>
void channel_reduce(Context& ctx, int64_t channels, int64_t count, Term term, Finish finish,
                    const char* op) {
  if (channels <= 0) return;
  AR1_CHECK(channels <= 65535, "[", op, "] ", channels, " channels: at most 65535 on a GPU");
  const int64_t chunks = math::reduction_chunks(count);
  Scratch partial(ctx, static_cast<size_t>(channels * chunks * 2) * sizeof(double));
  channel_chunk_sums_kernel<<<dim3(static_cast<unsigned>(chunks),
                                   static_cast<unsigned>(channels)),
                              math::kReduceThreads, 0, ctx.stream()>>>(partial.as<double>(),
                                                                       count, chunks, term);
  check_launch(op);
  channel_chunk_totals_kernel<<<static_cast<unsigned>(channels), math::kReduceThreads, 0,
                                ctx.stream()>>>(partial.as<double>(), chunks, finish);
  check_launch(op);
}

}  // namespace ar1::kernels::cuda
