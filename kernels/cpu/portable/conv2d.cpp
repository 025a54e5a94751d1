// The portable CPU convolutions (kernels/cpu_kernels.h): our own kernels, whose every sum runs
// in an order fixed by the shapes, so they give the same bits on any machine and thread count.
// This file checks the descriptor, handles n == 0 and ConvDesc::bf16, and picks the algorithm
// (conv_algorithms.h):
//   pointwise (1x1, stride 1, pad 0, one group)  GEMMs over the pixels    pointwise_conv.cpp
//   depthwise (groups == c_in == c_out)          direct loops             depthwise_conv.cpp
//   anything else (dense, grouped)               im2col + GEMM per image  im2col_conv.cpp
//
// bf16 is emulated: the convolution's two inputs are rounded to bfloat16 (kept in f32 copies)
// and the f32 kernels run on them. A product of two bf16 values is exact in f32, so this is
// "bf16 inputs, f32 accumulation", the numbers of oneDNN's bf16 kernels, without their speed.
// It rounds for the same shapes as the oneDNN set (kernels/cpu/onednn/conv2d.cpp,
// effective()), so a run and tests/kernels/conv2d_bf16_test.cpp read the same with both sets.
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_checks.h"
#include "kernels/cpu/fixed_blocks.h"
#include "kernels/cpu/portable/conv_algorithms.h"

namespace ar1::kernels::cpu::portable {

namespace {

enum class Algorithm { pointwise, depthwise, im2col };

Algorithm algorithm(const ConvDesc& d) {
  if (d.kh == 1 && d.kw == 1 && d.stride == 1 && d.pad == 0 && d.groups == 1) {
    return Algorithm::pointwise;
  }
  if (d.groups == d.c_in && d.groups == d.c_out) return Algorithm::depthwise;
  return Algorithm::im2col;
}

bool channels_last_pointwise(const ConvDesc& d) {
  return d.channels_last && algorithm(d) == Algorithm::pointwise;
}

// The oneDNN set's rule: bf16 for dense convolutions (one group) except channels-last
// pointwise on at most 2048 pixel rows, which it runs as f32 sgemms.
bool rounds_to_bf16(const ConvDesc& d) {
  return d.bf16 && d.groups == 1 && !(channels_last_pointwise(d) && d.n * d.h * d.w <= 2048);
}

// The conv's inputs as it reads them: `p` itself, or with ConvDesc::bf16 a copy of it rounded
// to bfloat16 in `copy` (the calling thread's, kept between calls).
const float* input(const float* p, int64_t count, const ConvDesc& d, std::vector<float>& copy) {
  if (!rounds_to_bf16(d)) return p;
  copy.resize(count);
  float* out = copy.data();
#pragma omp parallel for schedule(static) if (count > 65536)
  for (int64_t i = 0; i < count; ++i) out[i] = bfloat16_to_float(float_to_bfloat16(p[i]));
  return out;
}

int64_t x_count(const ConvDesc& d) { return d.n * d.c_in * d.h * d.w; }
int64_t y_count(const ConvDesc& d) { return d.n * d.c_out * d.oh() * d.ow(); }
int64_t w_count(const ConvDesc& d) { return d.c_out * (d.c_in / d.groups) * d.kh * d.kw; }

thread_local std::vector<float> g_first_copy, g_second_copy;  // bf16 copies of the two inputs

}  // namespace

void add_bias(float* y, const float* bias, int64_t rows, int64_t cols, int64_t ld,
              bool bias_per_row, bool relu) {
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict row = y + r * ld;
    if (bias_per_row) {
      const float b = bias[r];
      for (int64_t i = 0; i < cols; ++i) row[i] = relu ? std::max(row[i] + b, 0.f) : row[i] + b;
    } else {
      for (int64_t i = 0; i < cols; ++i) {
        row[i] = relu ? std::max(row[i] + bias[i], 0.f) : row[i] + bias[i];
      }
    }
  }
}

int64_t images_per_block(const ConvDesc& d) {
  return fixed_block_size(d.n, ceil_div(kMinBlockPixels, d.oh() * d.ow()), kMaxBlocks);
}


void conv2d_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias) {
  check_conv_forward(d, bias);
  if (d.n == 0) return;
  const float* xr = input(x, x_count(d), d, g_first_copy);
  const float* wr = input(w, w_count(d), d, g_second_copy);
  switch (algorithm(d)) {
    case Algorithm::pointwise: return pointwise_forward(y, xr, wr, d, bias);
    case Algorithm::depthwise: return depthwise_forward(y, xr, wr, d, bias);
    case Algorithm::im2col: return im2col_forward(y, xr, wr, d, bias);
  }
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d) {
  check_conv_backward("conv2d_backward_data", d);
  if (d.n == 0) return;
  const float* dyr = input(dy, y_count(d), d, g_first_copy);
  const float* wr = input(w, w_count(d), d, g_second_copy);
  switch (algorithm(d)) {
    case Algorithm::pointwise: return pointwise_backward_data(dx, dyr, wr, d);
    case Algorithm::depthwise: return depthwise_backward_data(dx, dyr, wr, d);
    case Algorithm::im2col: return im2col_backward_data(dx, dyr, wr, d);
  }
}

void conv2d_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d) {
  check_conv_backward("conv2d_backward_weights", d);
  if (d.n == 0) {  // an empty batch contributes nothing; the output is still overwritten
    std::fill_n(dw, w_count(d), 0.f);
    return;
  }
  const float* dyr = input(dy, y_count(d), d, g_first_copy);
  const float* xr = input(x, x_count(d), d, g_second_copy);
  switch (algorithm(d)) {
    case Algorithm::pointwise: return pointwise_backward_weights(dw, dyr, xr, d);
    case Algorithm::depthwise: return depthwise_backward_weights(dw, dyr, xr, d);
    case Algorithm::im2col: return im2col_backward_weights(dw, dyr, xr, d);
  }
}

bool conv2d_relu_backward(float* dx, float* dw, float* db, const float* dy, const float* y,
                          const float* x, const float* w, const ConvDesc& d) {
  check_conv_backward("conv2d_relu_backward", d);
  if (d.n == 0) return false;
  if (algorithm(d) == Algorithm::pointwise && pointwise_relu_backward_fuses(d)) {
    pointwise_relu_backward(dx, dw, db, dy, y, x, w, d);
    return true;
  }
  if (algorithm(d) == Algorithm::depthwise && depthwise_relu_backward_fuses(d)) {
    depthwise_relu_backward(dx, dw, db, dy, y, x, w, d);
    return true;
  }
  return false;
}

bool conv2d_forward_scaled(float* y, const float* x, const float* w, const float* w_scale,
                           const ConvDesc& d, const float* bias) {
  check_conv_forward(d, bias);
  // bf16 rounds the folded weights, not these; NCHW pointwise reads w as A, not as B.
  if (!d.channels_last || d.bf16) return false;
  if (d.n == 0) return true;
  switch (algorithm(d)) {
    case Algorithm::pointwise: pointwise_forward(y, x, w, d, bias, w_scale); break;
    case Algorithm::depthwise: depthwise_forward(y, x, w, d, bias, w_scale); break;
    case Algorithm::im2col: im2col_forward(y, x, w, d, bias, w_scale); break;
  }
  return true;
}

}  // namespace ar1::kernels::cpu::portable
