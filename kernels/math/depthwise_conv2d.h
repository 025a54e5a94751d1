#pragma once
// Depthwise convolution (groups = c_in = c_out, one kh x kw filter per channel) element by
// element, for the CUDA kernels (kernels/cuda/depthwise_conv2d.cu) and for the CPU-side test
// that runs these same functions against the CPU convolution. Activations are [N, C, H, W] or,
// when d.channels_last, [N, H, W, C]; weights are [C, 1, KH, KW]. Sums run in a fixed order
// (taps row by row), so a rerun gives the same bits.
#include "core/hd.h"
#include "kernels/conv2d.h"

namespace ar1::kernels::math {

// At most this many taps per filter in the own kernels (3 x 3 and 5 x 5 fit); others go to cuDNN.
inline constexpr int kDepthwiseMaxTaps = 25;

AR1_HD inline int64_t activation_index(int64_t n, int64_t c, int64_t y, int64_t x, int64_t C,
                                       int64_t H, int64_t W, bool channels_last) {
  return channels_last ? ((n * H + y) * W + x) * C + c : ((n * C + c) * H + y) * W + x;
}

struct Pixel {
  int64_t n, c, y, x;
};

// The (n, c, y, x) of the i-th element of a [N, C, H, W] tensor in the layout.
AR1_HD inline Pixel pixel_of(int64_t i, int64_t C, int64_t H, int64_t W, bool channels_last) {
  Pixel p;
  if (channels_last) {
    p.c = i % C;
    i /= C;
    p.x = i % W;
    i /= W;
    p.y = i % H;
    p.n = i / H;
  } else {
    p.x = i % W;
    i /= W;
    p.y = i % H;
    i /= H;
    p.c = i % C;
    p.n = i / C;
  }
  return p;
}

// y[i] for the i-th output element.
AR1_HD inline float depthwise_forward_at(int64_t i, const float* x, const float* w,
                                         const ConvDesc& d) {
  const int64_t oh = d.oh(), ow = d.ow();
  const Pixel o = pixel_of(i, d.c_out, oh, ow, d.channels_last);
  const float* wc = w + o.c * d.kh * d.kw;
  float acc = 0.f;
  for (int64_t ky = 0; ky < d.kh; ++ky) {
    const int64_t iy = o.y * d.stride - d.pad + ky;
    if (iy < 0 || iy >= d.h) continue;
    for (int64_t kx = 0; kx < d.kw; ++kx) {
      const int64_t ix = o.x * d.stride - d.pad + kx;
      if (ix < 0 || ix >= d.w) continue;
      acc += x[activation_index(o.n, o.c, iy, ix, d.c_in, d.h, d.w, d.channels_last)] *
             wc[ky * d.kw + kx];
    }
  }
  return acc;
}

// With the fused epilogue of ConvDesc: + bias[c] when d.bias, then ReLU when d.relu.
AR1_HD inline float depthwise_forward_fused_at(int64_t i, const float* x, const float* w,
                                               const float* bias, const ConvDesc& d) {
  float v = depthwise_forward_at(i, x, w, d);
  if (d.bias) v += bias[pixel_of(i, d.c_out, d.oh(), d.ow(), d.channels_last).c];
  return d.relu ? hd::max_of(v, 0.f) : v;
}

// Whether the own kernels take this convolution: depthwise with at most kDepthwiseMaxTaps taps.
AR1_HD inline bool depthwise_supported(const ConvDesc& d) {
  return d.groups > 1 && d.groups == d.c_in && d.c_in == d.c_out &&
         d.kh * d.kw <= kDepthwiseMaxTaps;
}

// dx[i] for the i-th input element: the outputs whose window covers it.
AR1_HD inline float depthwise_backward_data_at(int64_t i, const float* dy, const float* w,
                                               const ConvDesc& d) {
  const int64_t oh = d.oh(), ow = d.ow();
  const Pixel p = pixel_of(i, d.c_in, d.h, d.w, d.channels_last);
  const float* wc = w + p.c * d.kh * d.kw;
  float acc = 0.f;
  for (int64_t ky = 0; ky < d.kh; ++ky) {
    const int64_t ty = p.y + d.pad - ky;
    if (ty < 0 || ty % d.stride != 0 || ty / d.stride >= oh) continue;
    for (int64_t kx = 0; kx < d.kw; ++kx) {
      const int64_t tx = p.x + d.pad - kx;
      if (tx < 0 || tx % d.stride != 0 || tx / d.stride >= ow) continue;
      acc += dy[activation_index(p.n, p.c, ty / d.stride, tx / d.stride, d.c_out, oh, ow,
                                 d.channels_last)] *
             wc[ky * d.kw + kx];
    }
  }
  return acc;
}

// Adds output position pos's (pos < n oh ow, order n, oy, ox) terms dy * x of channel c to the
// kh kw tap sums of the weight gradient.
AR1_HD inline void depthwise_weight_terms(int64_t pos, int64_t c, const float* dy, const float* x,
                                          const ConvDesc& d, double* taps) {
  const int64_t oh = d.oh(), ow = d.ow();
  const int64_t ox = pos % ow, oy = (pos / ow) % oh, n = pos / (ow * oh);
  const double g = dy[activation_index(n, c, oy, ox, d.c_out, oh, ow, d.channels_last)];
  for (int64_t ky = 0; ky < d.kh; ++ky) {
    const int64_t iy = oy * d.stride - d.pad + ky;
    if (iy < 0 || iy >= d.h) continue;
    for (int64_t kx = 0; kx < d.kw; ++kx) {
      const int64_t ix = ox * d.stride - d.pad + kx;
      if (ix < 0 || ix >= d.w) continue;
      taps[ky * d.kw + kx] +=
          g * x[activation_index(n, c, iy, ix, d.c_in, d.h, d.w, d.channels_last)];
    }
  }
}

}  // namespace ar1::kernels::math
