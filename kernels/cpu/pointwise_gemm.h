#pragma once
// Our own AVX-512 GEMM for channels-last pointwise convolutions (1x1, stride 1, no padding, one
// group), the three products of a training step over the M = N H W pixel rows:
//   forward          y [rows, c_out] = x [rows, c_in] w^T  (+ bias, ReLU)
//   backward-data    dx[rows, c_in]  = dy[rows, c_out] w
//   backward-weights dw[c_out, c_in] = dy^T x
// w is [c_out, c_in]. Every output element's sum runs in an order fixed by the shape, whatever
// the thread count (fixed_blocks.h): the same bits on 1, 2 or 16 threads.
//
// Why our own: oneDNN 2.6 reaches 45-65 % of the FMA peak on the large maps of MobileNetV1
// (64 x 64 to 16 x 16 at batch 128) and its backward-weights, cut into fixed blocks for
// determinism, about half. This kernel is as fast as oneDNN there, not faster yet
// (bench/RESULTS.md, "CPU performance round 2"), so conv2d.cpp uses it only when asked
// (AR1_POINTWISE_GEMM=own) on a CPU with AVX-512F.
#include <cstdint>

namespace ar1::kernels::cpu {

// AVX-512F at run time and AR1_POINTWISE_GEMM=own in the environment (read once); otherwise
// the oneDNN path runs, so benchmarks can compare the two on one machine.
bool pointwise_gemm_enabled();

void pointwise_forward(float* y, const float* x, const float* w, int64_t rows, int64_t c_in,
                       int64_t c_out, const float* bias, bool relu);
void pointwise_backward_data(float* dx, const float* dy, const float* w, int64_t rows,
                             int64_t c_in, int64_t c_out);
void pointwise_backward_weights(float* dw, const float* dy, const float* x, int64_t rows,
                                int64_t c_in, int64_t c_out);

}  // namespace ar1::kernels::cpu
