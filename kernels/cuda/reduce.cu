// sum_all and channel_sum on a GPU in the fixed order of kernels/cuda/channel_reduction.cuh:
// the same bits on every run, equal to the CPU's sums up to rounding.
#include "kernels/cuda/channel_reduction.cuh"
#include "kernels/reduce.h"
#include "kernels/cuda/status.h"

namespace ar1::kernels::cuda {

void sum_all(Device device, float* y, const float* x, int64_t n) {
  channel_reduce(
      Context::get(device), 1, n,
      [=] __device__(int64_t, int64_t j) { return TermPair{static_cast<double>(x[j]), 0.0}; },
      [=] __device__(int64_t, double u, double) { *y = static_cast<float>(u); }, "sum");
}

bool any_nonfinite(Device device, const float* x, int64_t n) {
  Context& ctx = Context::get(device);
  Scratch flag(ctx, sizeof(unsigned int));
  unsigned int* f = flag.as<unsigned int>();
  check(cudaMemsetAsync(f, 0, sizeof(unsigned int), ctx.stream()), "cudaMemsetAsync");
  const auto* bits = reinterpret_cast<const unsigned int*>(x);
  for_each_index(ctx, n, [=] __device__(int64_t i) {
    if ((bits[i] & 0x7f800000u) == 0x7f800000u) atomicOr(f, 1u);  // order-free: a flag
  }, "any_nonfinite");
  unsigned int found = 0;
  ctx.forbid_in_capture("reading a non-finite check");
  check(cudaMemcpyAsync(&found, f, sizeof found, cudaMemcpyDeviceToHost, ctx.stream()),
        "cudaMemcpyAsync");
  check(cudaStreamSynchronize(ctx.stream()), "cudaStreamSynchronize");
  return found != 0;
}

void channel_sum(Device device, float* y, const float* x, const ChannelSumDesc& d) {
  channel_reduce(
      Context::get(device), d.channels, d.outer * d.inner,
      [=] __device__(int64_t c, int64_t j) {
        const int64_t o = j / d.inner, i = j % d.inner;
        return TermPair{static_cast<double>(x[(o * d.channels + c) * d.inner + i]), 0.0};
      },
      [=] __device__(int64_t c, double u, double) { y[c] = static_cast<float>(u); },
      "channel sum");
}

}  // namespace ar1::kernels::cuda
