// Depthwise convolution on a GPU (PyTorch does not use cuDNN for fp32 depthwise either: its
// grouped path is slow there). One thread per output (forward) or input (backward data)
// element; the weight gradient sums each channel's taps in the fixed order of
// kernels/math/fixed_order_sum.h. The element math is kernels/math/depthwise_conv2d.h, which a
// CPU test checks against the CPU convolution.
#include "core/error.h"
#include "kernels/cuda/depthwise_conv2d.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/math/depthwise_conv2d.h"

namespace ar1::kernels::cuda {

namespace {

constexpr int kTaps = math::kDepthwiseMaxTaps;

// Stage 1, block (g, c): chunk g of channel c's output positions, each tap's terms summed by
// thread and then by the block's tree.
__global__ void weight_chunks_kernel(double* partial, const float* dy, const float* x,
                                     ConvDesc d, int64_t chunks) {
  __shared__ double p[math::kReduceThreads];
  const int64_t g = blockIdx.x, c = blockIdx.y;
  const int64_t count = d.n * d.oh() * d.ow(), taps = d.kh * d.kw;
  const int64_t begin = math::chunk_begin(g, count, chunks);
  const int64_t end = math::chunk_begin(g + 1, count, chunks);
  double acc[kTaps] = {};
  for (int64_t pos = begin + threadIdx.x; pos < end; pos += math::kReduceThreads) {
    math::depthwise_weight_terms(pos, c, dy, x, d, acc);
  }
  for (int64_t k = 0; k < taps; ++k) {
    const double total = block_tree_sum(p, acc[k]);
    if (threadIdx.x == 0) partial[(c * chunks + g) * taps + k] = total;
  }
}

// Stage 2, block c: each tap's chunk totals added in the tree.
__global__ void weight_totals_kernel(float* dw, const double* partial, ConvDesc d,
                                     int64_t chunks) {
  __shared__ double p[math::kReduceThreads];
  const int64_t c = blockIdx.x, taps = d.kh * d.kw;
  for (int64_t k = 0; k < taps; ++k) {
    const double v = threadIdx.x < chunks ? partial[(c * chunks + threadIdx.x) * taps + k] : 0.0;
    const double total = block_tree_sum(p, v);
    if (threadIdx.x == 0) dw[c * taps + k] = static_cast<float>(total);
  }
}

}  // namespace

void depthwise_forward(Context& ctx, float* y, const float* x, const float* w, const float* bias,
                       const ConvDesc& d) {
  for_each_index(ctx, d.n * d.c_out * d.oh() * d.ow(), [=] __device__(int64_t i) {
    y[i] = math::depthwise_forward_fused_at(i, x, w, bias, d);
  }, "conv2d (depthwise)");
}

void depthwise_backward_data(Context& ctx, float* dx, const float* dy, const float* w,
                             const ConvDesc& d) {
  for_each_index(ctx, d.n * d.c_in * d.h * d.w, [=] __device__(int64_t i) {
    dx[i] = math::depthwise_backward_data_at(i, dy, w, d);
  }, "conv2d backward data (depthwise)");
}

void depthwise_backward_weights(Context& ctx, float* dw, const float* dy, const float* x,
                                const ConvDesc& d) {
  const int64_t chunks = math::reduction_chunks(d.n * d.oh() * d.ow());
  const int64_t taps = d.kh * d.kw;
  AR1_CHECK(d.c_out <= 65535, "[conv2d backward weights] ", d.c_out,
            " depthwise channels: at most 65535 on a GPU");
  Scratch partial(ctx, static_cast<size_t>(d.c_out * chunks * taps) * sizeof(double));
  weight_chunks_kernel<<<dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(d.c_out)),
                         math::kReduceThreads, 0, ctx.stream()>>>(partial.as<double>(), dy, x,
                                                                  d, chunks);
  check_launch("conv2d backward weights (depthwise)");
  weight_totals_kernel<<<static_cast<unsigned>(d.c_out), math::kReduceThreads, 0,
                         ctx.stream()>>>(dw, partial.as<double>(), d, chunks);
  check_launch("conv2d backward weights (depthwise)");
}

}  // namespace ar1::kernels::cuda
