#pragma once
// Launch helpers shared by the .cu files: grid-stride elementwise loops and the fixed-order
// block sums of kernels/math/fixed_order_sum.h.
#include <cstdint>

#include "kernels/cuda/context.h"
#include "kernels/cuda/status.h"
#include "kernels/math/fixed_order_sum.h"

namespace ar1::kernels::cuda {

inline constexpr int kThreads = 256;

inline int grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

template <class F>
__global__ void for_each_index_kernel(int64_t n, F f) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += step) {
    f(i);
  }
}

// f(i) for every i in [0, n) on the context's stream; f is a __device__ lambda or functor.
template <class F>
void for_each_index(Context& ctx, int64_t n, F f, const char* op) {
  if (n <= 0) return;
  for_each_index_kernel<<<grid_for(n), kThreads, 0, ctx.stream()>>>(n, f);
  check_launch(op);
}

// The fixed tree of math::tree_reduce_step over the block's kReduceThreads values of `p`
// (shared memory); every thread returns the total. Requires blockDim.x == kReduceThreads.
__device__ inline double block_tree_sum(double* p, double v) {
  const int t = static_cast<int>(threadIdx.x);
  p[t] = v;
  __syncthreads();
  for (int s = math::kReduceThreads / 2; s > 0; s >>= 1) {
    math::tree_reduce_step(p, t, s);
    __syncthreads();
  }
  const double total = p[0];
  __syncthreads();  // p may be reused by the caller's next sum
  return total;
}

}  // namespace ar1::kernels::cuda
