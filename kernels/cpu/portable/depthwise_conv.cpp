// Depthwise convolutions (groups == c_in == c_out = C), w [C, kh, kw], as direct loops:
//   y[b, c, i, j] = sum_{p, q} x[b, c, i s - pad + p, j s - pad + q] w[c, p, q]
// Channels-last: the innermost loop runs over the C contiguous channels of a pixel (the weights
// are first transposed to [kh kw, C] so that theirs are contiguous too). NCHW: it runs over an
// output row, a contiguous run of pixels of one plane.
//
// Every product is added with one fma (std::fma: the same rounding on every instruction set;
// vectorised where the target has fma) in the tap order below.
//
// Threads: forward and backward-data give each output row (channels-last) or plane (NCHW) to
// one thread, and every output's taps are summed in (p, q) order. Backward-weights sums over
// the batch: channels-last in blocks of images fixed by the shape whose partials are added in
// block order (fixed_blocks.h); NCHW per channel, each channel's whole sum on one thread.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/fixed_blocks.h"
#include "kernels/cpu/portable/conv_algorithms.h"

namespace ar1::kernels::cpu::portable {

namespace {

// The output columns j whose tap q lands inside a row of `width` input pixels:
// 0 <= j s - pad + q < width, j in [0, ow).
struct Span {
  int64_t first = 0, end = 0;
};
Span valid_outputs(int64_t q, int64_t width, int64_t outputs, int64_t stride, int64_t pad) {
  const int64_t lo = pad - q;  // j s >= lo
  const int64_t hi = width - 1 + pad - q;  // j s <= hi
  Span s;
  s.first = lo <= 0 ? 0 : ceil_div(lo, stride);
  s.end = hi < 0 ? 0 : std::min(outputs, hi / stride + 1);
  if (s.end < s.first) s.end = s.first;
  return s;
}

// w [C, taps] -> [taps, C].
void transpose_weights(std::vector<float>& wt, const float* w, int64_t c, int64_t taps) {
  wt.resize(c * taps);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t t = 0; t < taps; ++t) wt[t * c + ch] = w[ch * taps + t];
}

}  // namespace

void depthwise_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                       const float* bias) {
  const int64_t c = d.c_in, oh = d.oh(), ow = d.ow(), s = d.stride;
  if (d.channels_last) {
    thread_local std::vector<float> wt;
    transpose_weights(wt, w, c, d.kh * d.kw);
    const float* wtp = wt.data();
    for_each_fixed_block(d.n * oh, [&](int64_t t) {
      const int64_t b = t / oh, i = t % oh;
      for (int64_t j = 0; j < ow; ++j) {
        float* __restrict yp = y + (t * ow + j) * c;
        std::fill_n(yp, c, 0.f);
        for (int64_t p = 0; p < d.kh; ++p) {
          const int64_t r = i * s - d.pad + p;
          if (r < 0 || r >= d.h) continue;
          for (int64_t q = 0; q < d.kw; ++q) {
            const int64_t col = j * s - d.pad + q;
            if (col < 0 || col >= d.w) continue;
            const float* __restrict xp = x + ((b * d.h + r) * d.w + col) * c;
            const float* __restrict wp = wtp + (p * d.kw + q) * c;
            for (int64_t ch = 0; ch < c; ++ch) yp[ch] = std::fma(xp[ch], wp[ch], yp[ch]);
          }
        }
        if (bias != nullptr) add_bias(yp, bias, 1, c, c, false, d.relu);
      }
    });
    return;
  }
  for_each_fixed_block(d.n * c, [&](int64_t plane) {
    const int64_t ch = plane % c;
    const float* xp = x + plane * d.h * d.w;
    const float* wp = w + ch * d.kh * d.kw;
    float* yp = y + plane * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      float* __restrict yrow = yp + i * ow;
      std::fill_n(yrow, ow, 0.f);
      for (int64_t p = 0; p < d.kh; ++p) {
        const int64_t r = i * s - d.pad + p;
        if (r < 0 || r >= d.h) continue;
        const float* __restrict xrow = xp + r * d.w;
        for (int64_t q = 0; q < d.kw; ++q) {
          const Span span = valid_outputs(q, d.w, ow, s, d.pad);
          const float wv = wp[p * d.kw + q];
          const int64_t shift = q - d.pad;  // column j's tap is xrow[j s + shift]
          for (int64_t j = span.first; j < span.end; ++j) {
            yrow[j] = std::fma(xrow[j * s + shift], wv, yrow[j]);
          }
        }
      }
    }
    if (bias != nullptr) add_bias(yp, bias + ch, 1, oh * ow, oh * ow, true, d.relu);
  });
}

void depthwise_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d) {
  const int64_t c = d.c_in, oh = d.oh(), ow = d.ow(), s = d.stride;
  if (d.channels_last) {
    // Gathered per input pixel: dx[r, col] = sum of dy[i, j] w[p, q] over the (p, q) with
    // i s - pad + p = r and j s - pad + q = col.
    thread_local std::vector<float> wt;
    transpose_weights(wt, w, c, d.kh * d.kw);
    const float* wtp = wt.data();
    for_each_fixed_block(d.n * d.h, [&](int64_t t) {
      const int64_t b = t / d.h, r = t % d.h;
      for (int64_t col = 0; col < d.w; ++col) {
        float* __restrict dxp = dx + (t * d.w + col) * c;
        std::fill_n(dxp, c, 0.f);
        for (int64_t p = 0; p < d.kh; ++p) {
          const int64_t ri = r + d.pad - p;  // = i s
          if (ri < 0 || ri % s != 0 || ri / s >= oh) continue;
          for (int64_t q = 0; q < d.kw; ++q) {
            const int64_t cj = col + d.pad - q;  // = j s
            if (cj < 0 || cj % s != 0 || cj / s >= ow) continue;
            const float* __restrict dyp = dy + ((b * oh + ri / s) * ow + cj / s) * c;
            const float* __restrict wp = wtp + (p * d.kw + q) * c;
            for (int64_t ch = 0; ch < c; ++ch) dxp[ch] = std::fma(dyp[ch], wp[ch], dxp[ch]);
          }
        }
      }
    });
    return;
  }
  // Scattered within one plane: dx[i s - pad + p, j s - pad + q] += dy[i, j] w[p, q].
  for_each_fixed_block(d.n * c, [&](int64_t plane) {
    const int64_t ch = plane % c;
    const float* dyp = dy + plane * oh * ow;
    const float* wp = w + ch * d.kh * d.kw;
    float* dxp = dx + plane * d.h * d.w;
    std::fill_n(dxp, d.h * d.w, 0.f);
    for (int64_t i = 0; i < oh; ++i) {
      const float* __restrict dyrow = dyp + i * ow;
      for (int64_t p = 0; p < d.kh; ++p) {
        const int64_t r = i * s - d.pad + p;
        if (r < 0 || r >= d.h) continue;
        float* __restrict dxrow = dxp + r * d.w;
        for (int64_t q = 0; q < d.kw; ++q) {
          const Span span = valid_outputs(q, d.w, ow, s, d.pad);
          const float wv = wp[p * d.kw + q];
          const int64_t shift = q - d.pad;
          for (int64_t j = span.first; j < span.end; ++j) {
            dxrow[j * s + shift] = std::fma(dyrow[j], wv, dxrow[j * s + shift]);
          }
        }
      }
    }
  });
}

void depthwise_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d) {
  const int64_t c = d.c_in, oh = d.oh(), ow = d.ow(), s = d.stride, taps = d.kh * d.kw;
  if (d.channels_last) {
    // Partials [taps, C] per block of images, summed in block order, then transposed to dw.
    thread_local std::vector<float> sum, partials;
    sum.resize(taps * c);
    const int64_t per_block = images_per_block(d);
    sum_fixed_blocks(sum.data(), taps * c, ceil_div(d.n, per_block), partials,
                     [&](float* out, int64_t block) {
      std::fill_n(out, taps * c, 0.f);
      const int64_t last = std::min(d.n, (block + 1) * per_block);
      for (int64_t b = block * per_block; b < last; ++b)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            const float* __restrict dyp = dy + ((b * oh + i) * ow + j) * c;
            for (int64_t p = 0; p < d.kh; ++p) {
              const int64_t r = i * s - d.pad + p;
              if (r < 0 || r >= d.h) continue;
              for (int64_t q = 0; q < d.kw; ++q) {
                const int64_t col = j * s - d.pad + q;
                if (col < 0 || col >= d.w) continue;
                const float* __restrict xp = x + ((b * d.h + r) * d.w + col) * c;
                float* __restrict acc = out + (p * d.kw + q) * c;
                for (int64_t ch = 0; ch < c; ++ch) acc[ch] = std::fma(dyp[ch], xp[ch], acc[ch]);
              }
            }
          }
    });
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t t = 0; t < taps; ++t) dw[ch * taps + t] = sum[t * c + ch];
    return;
  }
  // Per channel: the products are accumulated per output column j in acc [taps, ow] over the
  // whole batch (a loop that vectorises), then each tap's row is summed in j order.
  for_each_fixed_block(c, [&](int64_t ch) {
    thread_local std::vector<float> acc;
    acc.assign(taps * ow, 0.f);
    for (int64_t b = 0; b < d.n; ++b) {
      const float* dyp = dy + (b * c + ch) * oh * ow;
      const float* xp = x + (b * c + ch) * d.h * d.w;
      for (int64_t i = 0; i < oh; ++i) {
        const float* __restrict dyrow = dyp + i * ow;
        for (int64_t p = 0; p < d.kh; ++p) {
          const int64_t r = i * s - d.pad + p;
          if (r < 0 || r >= d.h) continue;
          const float* __restrict xrow = xp + r * d.w;
          for (int64_t q = 0; q < d.kw; ++q) {
            const Span span = valid_outputs(q, d.w, ow, s, d.pad);
            float* __restrict a = acc.data() + (p * d.kw + q) * ow;
            const int64_t shift = q - d.pad;
            for (int64_t j = span.first; j < span.end; ++j) {
              a[j] = std::fma(dyrow[j], xrow[j * s + shift], a[j]);
            }
          }
        }
      }
    }
    for (int64_t t = 0; t < taps; ++t) {
      float total = 0.f;
      for (int64_t j = 0; j < ow; ++j) total += acc[t * ow + j];
      dw[ch * taps + t] = total;
    }
  });
}

}  // namespace ar1::kernels::cpu::portable
