#pragma once
// The three algorithms of the portable CPU convolution (conv2d.cpp picks one per shape):
//   pointwise_conv.cpp  1x1, stride 1, no padding, one group: GEMMs over the pixels
//   depthwise_conv.cpp  groups == c_in == c_out: direct loops, vectorised over channels
//                       (channels-last) or over the output row (NCHW)
//   im2col_conv.cpp     everything else (dense, general grouped): im2col + GEMM per image
// Buffers and layouts as in kernels/conv2d.h. Every function gets a checked descriptor with
// n > 0 and inputs already rounded where ConvDesc::bf16 asks (conv2d.cpp), overwrites its
// output, and gives the same bits on any thread count (fixed_blocks.h) and any machine.
#include <cstdint>

#include "kernels/conv2d.h"

namespace ar1::kernels::cpu::portable {

// bias: [c_out] or nullptr; relu only with a bias. w_scale: [c_out] or nullptr, the weights
// read as w[o] * w_scale[o] (conv2d_forward_scaled; channels-last only).
void pointwise_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                       const float* bias, const float* w_scale = nullptr);
void pointwise_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d);
void pointwise_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d);
// The backward of a pointwise convolution whose output y went through a ReLU, in one pass over
// the gradient (kernels/conv2d.h, conv2d_relu_backward), where pointwise_relu_backward_fuses.
bool pointwise_relu_backward_fuses(const ConvDesc& d);
void pointwise_relu_backward(float* dx, float* dw, float* db, const float* dy, const float* y,
                             const float* x, const float* w, const ConvDesc& d);

void depthwise_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                       const float* bias, const float* w_scale = nullptr);
void depthwise_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d);
void depthwise_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d);
// As pointwise_relu_backward, for the depthwise 3 x 3 convolutions of stride 1 or 2.
bool depthwise_relu_backward_fuses(const ConvDesc& d);
void depthwise_relu_backward(float* dx, float* dw, float* db, const float* dy, const float* y,
                             const float* x, const float* w, const ConvDesc& d);

void im2col_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias, const float* w_scale = nullptr);
void im2col_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d);
void im2col_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d);

// The fused epilogue: y += bias, then ReLU when `relu`, over `rows` x `cols` values (rows `ld`
// apart); the bias runs along the columns (channels-last: a row is a pixel) or, with
// `bias_per_row`, along the rows (NCHW: a row is a channel's plane).
void add_bias(float* y, const float* bias, int64_t rows, int64_t cols, int64_t ld,
              bool bias_per_row, bool relu);

// Images per block of a backward-weights sum over the batch: fixed by the shape (at least
// kMinBlockPixels output pixels, at most kMaxBlocks blocks; the partials' memory).
inline constexpr int64_t kMinBlockPixels = 2048;
inline constexpr int64_t kMaxBlocks = 32;
int64_t images_per_block(const ConvDesc& d);

}  // namespace ar1::kernels::cpu::portable
