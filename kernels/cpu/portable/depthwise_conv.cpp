// Depthwise convolutions (groups == c_in == c_out = C), w [C, kh, kw], as direct loops:
//   y[b, c, i, j] = sum_{p, q} x[b, c, i s - pad + p, j s - pad + q] w[c, p, q]
// Channels-last: the innermost loop runs over the C contiguous channels of a pixel (the weights
// are first transposed to [kh kw, C] so that theirs are contiguous too), in the loops of
// depthwise_vector_loops.h: where a 3 x 3 window lies inside the map, a block of channels keeps
// its 9 weights (forward, backward-data) or its 9 sums (backward-weights) in registers along
// the row; the border pixels' taps are gathered first (no division per pixel). NCHW: the loop
// runs over an output row, a contiguous run of pixels of one plane.
//
// Every product is added with one fma (std::fma or the vector fma: the same rounding on every
// instruction set) in the tap order below, from +0.
//
// Threads: forward and backward-data give each output row (channels-last) or plane (NCHW) to
// one thread, and every output's taps are summed in (p, q) order. Backward-weights sums over
// the batch: channels-last in blocks of images fixed by the shape whose partials are added in
// block order (fixed_blocks.h); NCHW per channel, each channel's whole sum on one thread.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/cpu/fixed_blocks.h"
#include "kernels/cpu/portable/conv_algorithms.h"
#include "kernels/cpu/portable/depthwise_vector_loops.h"
#include "kernels/cpu/portable/masked_grad_sums.h"

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

// w [C, taps] -> [taps, C], each channel's weights times scale[channel] where scale is given.
void transpose_weights(std::vector<float>& wt, const float* w, int64_t c, int64_t taps,
                       const float* scale = nullptr) {
  wt.resize(c * taps);
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t t = 0; t < taps; ++t) {
      wt[t * c + ch] = scale != nullptr ? w[ch * taps + t] * scale[ch] : w[ch * taps + t];
    }
  }
}

// For each output (forward) or input (backward-data) position along one axis, the kernel taps
// that connect it to a position inside the other side, in tap order: position k's are
// [first[k], first[k + 1]) of (tap, other position). Built once per call, so the per-pixel
// loops need no division.
struct AxisTaps {
  std::vector<int64_t> first{0}, tap, other;
};

// Forward: output position o reads input o s - pad + q, for q < kernel, inside [0, size).
AxisTaps forward_axis(int64_t outputs, int64_t size, int64_t kernel, int64_t s, int64_t pad) {
  AxisTaps a;
  for (int64_t o = 0; o < outputs; ++o) {
    for (int64_t q = 0; q < kernel; ++q) {
      const int64_t in = o * s - pad + q;
      if (in < 0 || in >= size) continue;
      a.tap.push_back(q);
      a.other.push_back(in);
    }
    a.first.push_back(static_cast<int64_t>(a.tap.size()));
  }
  return a;
}

// Backward-data: input position in gets the output o with o s - pad + q = in, for q < kernel,
// o inside [0, outputs).
AxisTaps backward_axis(int64_t size, int64_t outputs, int64_t kernel, int64_t s, int64_t pad) {
  AxisTaps a;
  for (int64_t in = 0; in < size; ++in) {
    for (int64_t q = 0; q < kernel; ++q) {
      const int64_t os = in + pad - q;  // = o s
      if (os < 0 || os % s != 0 || os / s >= outputs) continue;
      a.tap.push_back(q);
      a.other.push_back(os / s);
    }
    a.first.push_back(static_cast<int64_t>(a.tap.size()));
  }
  return a;
}

// Appends the taps of the pixels [from, to) of one row, in (p, q) order: rows[row] x cols[k].
// at(p, q, r, col) is where tap (p, q) of the pixel reads, as (values, weights).
template <class At>
void gather_row_taps(RowTaps& taps, const AxisTaps& rows, int64_t row, const AxisTaps& cols,
                     int64_t from, int64_t to, At at) {
  for (int64_t k = from; k < to; ++k) {
    for (int64_t a = rows.first[row]; a < rows.first[row + 1]; ++a) {
      for (int64_t b = cols.first[k]; b < cols.first[k + 1]; ++b) {
        const auto [v, w] = at(rows.tap[a], cols.tap[b], rows.other[a], cols.other[b]);
        taps.add(v, w);
      }
    }
    taps.end_pixel(k);
  }
}

// The positions j of [0, count) with lo <= j s <= hi, as [first, end): where a 3 x 3 window
// lies inside. Empty unless the kernel is 3 x 3.
struct WindowSpan {
  int64_t first = 0, end = 0;
  bool contains(int64_t j) const { return j >= first && j < end; }
};
WindowSpan window_span(const ConvDesc& d, int64_t count, int64_t s, int64_t lo, int64_t hi) {
  if (d.kh != 3 || d.kw != 3 || hi < 0) return {};
  const int64_t first = lo <= 0 ? 0 : ceil_div(lo, s);
  const int64_t end = std::min(count, hi / s + 1);
  return end > first ? WindowSpan{first, end} : WindowSpan{};
}

// One row of a 3 x 3 depthwise sum (forward: an output row; backward-data: an input row),
// win.rows[p] given for the tap rows [p0, p1) that lie inside: pixel j's tap (p, q) reads column
// j stride + offset[q] of rows[p], kept where inside [0, width). Where all three rows are
// inside, the pixels of `inside` run the register loop and the others their clipped windows;
// a row at the border runs the clipped windows throughout. The taps are in (p, q) order, as
// gather_row_taps orders them.
void sum_3x3_row(const DepthwiseLoops& loops, float* out, const Window3x3& win, int p0, int p1,
                 int64_t c, int64_t pixels, int64_t width, const WindowSpan& inside) {
  auto pixel = [&](int64_t j) {
    int q0 = 3, q1 = 0;
    for (int q = 0; q < 3; ++q) {
      const int64_t col = j * win.stride + win.offset[q];
      if (col >= 0 && col < width) q0 = std::min(q0, q), q1 = q + 1;
    }
    if (q1 <= q0 || p1 <= p0) q0 = q1 = 0, p1 = p0;
    loops.sum_window_taps(out + j * c, win, c, j, p0, p1, q0, q1);
  };
  if (p0 == 0 && p1 == 3 && inside.end > inside.first) {
    for (int64_t j = 0; j < inside.first; ++j) pixel(j);
    loops.sum_window_3x3(out, win, c, inside.first, inside.end);
    for (int64_t j = inside.end; j < pixels; ++j) pixel(j);
    return;
  }
  for (int64_t j = 0; j < pixels; ++j) pixel(j);
}

// Backward-data of input row r of one image, 3 x 3 and stride 1, into out: dy_row(i) gives the
// image's output row i (of ow pixels).
template <class DyRow>
void data_row_3x3(const DepthwiseLoops& loops, float* out, DyRow&& dy_row, const float* wtp,
                  const ConvDesc& d, int64_t r, const WindowSpan& in_cols) {
  Window3x3 win{};
  int p0 = 3, p1 = 0;
  for (int p = 0; p < 3; ++p) {
    const int64_t i = r + d.pad - p;
    if (i < 0 || i >= d.oh()) continue;
    win.rows[p] = dy_row(i);
    p0 = std::min(p0, p), p1 = p + 1;
  }
  win.weights = wtp;
  win.stride = 1;
  for (int q = 0; q < 3; ++q) win.offset[q] = d.pad - q;
  sum_3x3_row(loops, out, win, p0, p1, d.c_in, d.w, d.ow(), in_cols);
}

// Backward-weights, channels-last: acc [kh kw, C] += the products of output row i of image b
// (dy_row, its ow pixels) with the input values each tap reads, every sum in j order: the
// row's pixels left of `inside`, those it covers (the 3 x 3 window in registers; empty where
// the row's windows are not all inside), then those right of it.
void accumulate_weights_row(const DepthwiseLoops& loops, float* acc, const float* dy_row,
                            const float* x, const ConvDesc& d, int64_t b, int64_t i,
                            const WindowSpan& inside) {
  const int64_t c = d.c_in, s = d.stride;
  auto add_pixels = [&](int64_t j_from, int64_t j_to) {
    for (int64_t j = j_from; j < j_to; ++j) {
      const float* __restrict dyp = dy_row + j * c;
      for (int64_t p = 0; p < d.kh; ++p) {
        const int64_t r = i * s - d.pad + p;
        if (r < 0 || r >= d.h) continue;
        for (int64_t q = 0; q < d.kw; ++q) {
          const int64_t col = j * s - d.pad + q;
          if (col < 0 || col >= d.w) continue;
          const float* __restrict xp = x + ((b * d.h + r) * d.w + col) * c;
          float* __restrict a = acc + (p * d.kw + q) * c;
          for (int64_t ch = 0; ch < c; ++ch) a[ch] = std::fma(dyp[ch], xp[ch], a[ch]);
        }
      }
    }
  };
  if (inside.end <= inside.first) {
    add_pixels(0, d.ow());
    return;
  }
  add_pixels(0, inside.first);
  Window3x3 win{};
  for (int p = 0; p < 3; ++p) win.rows[p] = x + (b * d.h + i * s - d.pad + p) * d.w * c;
  win.stride = s;
  for (int q = 0; q < 3; ++q) win.offset[q] = q - d.pad;
  loops.accumulate_window_3x3(acc, dy_row, win, c, inside.first, inside.end);
  add_pixels(inside.end, d.ow());
}

// Outputs larger than this bypass the caches (non-temporal stores): the next layer reads them
// from memory anyway, and a plain store would first read each line in.
constexpr int64_t kStreamBytes = int64_t{32} << 20;

// Whether rows of `row_floats` floats from `out` on may be streamed: large, and every row
// 64-byte aligned (the widest vector).
bool streams(const float* out, int64_t total_floats, int64_t row_floats) {
  return total_floats * int64_t{sizeof(float)} > kStreamBytes &&
         reinterpret_cast<uintptr_t>(out) % 64 == 0 && row_floats * sizeof(float) % 64 == 0;
}

// Calls row(t) for t in [0, count) in order, kRowsPerTask consecutive rows per thread task:
// a thread that has just read a row's 3 input rows finds 2 of them in its cache for the next.
constexpr int64_t kRowsPerTask = 8;
template <class Row>
void for_each_row(int64_t count, Row&& row) {
  for_each_fixed_block(ceil_div(count, kRowsPerTask), [&](int64_t task) {
    const int64_t last = std::min(count, (task + 1) * kRowsPerTask);
    for (int64_t t = task * kRowsPerTask; t < last; ++t) row(t);
  });
}

}  // namespace

void depthwise_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                       const float* bias, const float* w_scale) {
  const int64_t c = d.c_in, oh = d.oh(), ow = d.ow(), s = d.stride;
  if (d.channels_last) {
    thread_local std::vector<float> wt;
    transpose_weights(wt, w, c, d.kh * d.kw, w_scale);
    const float* wtp = wt.data();
    const DepthwiseLoops& loops = depthwise_loops();
    const AxisTaps rows = forward_axis(oh, d.h, d.kh, s, d.pad);
    const AxisTaps cols = forward_axis(ow, d.w, d.kw, s, d.pad);
    // Columns whose 3 x 3 window lies inside: 0 <= j s - pad, j s - pad + 2 < w.
    const WindowSpan in_cols = window_span(d, ow, s, d.pad, d.w - 3 + d.pad);
    // Streamed rows are summed in a buffer that stays in L1, then stored past the caches.
    const bool stream = streams(y, d.n * oh * ow * c, ow * c);
    for_each_row(d.n * oh, [&](int64_t t) {
      const int64_t b = t / oh, i = t % oh;
      thread_local std::vector<float> buffer;
      if (stream) buffer.resize(ow * c);
      float* yrow = stream ? buffer.data() : y + t * ow * c;
      if (d.kh == 3 && d.kw == 3) {
        Window3x3 win{};
        int p0 = 3, p1 = 0;
        for (int p = 0; p < 3; ++p) {
          const int64_t r = i * s - d.pad + p;
          if (r < 0 || r >= d.h) continue;
          win.rows[p] = x + (b * d.h + r) * d.w * c;
          p0 = std::min(p0, p), p1 = p + 1;
        }
        win.weights = wtp;
        win.stride = s;
        for (int q = 0; q < 3; ++q) win.offset[q] = q - d.pad;
        sum_3x3_row(loops, yrow, win, p0, p1, c, ow, d.w, in_cols);
      } else {
        const auto at = [&](int64_t p, int64_t q, int64_t r, int64_t col) {
          return std::pair(x + ((b * d.h + r) * d.w + col) * c, wtp + (p * d.kw + q) * c);
        };
        thread_local RowTaps taps;
        taps.clear();
        gather_row_taps(taps, rows, i, cols, 0, ow, at);
        loops.sum_gathered(yrow, taps, c);
      }
      if (stream) {
        loops.store_rows(y + t * ow * c, yrow, ow * c, c, bias, d.relu, true);
      } else if (bias != nullptr) {
        add_bias(yrow, bias, ow, c, c, false, d.relu);
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
    const DepthwiseLoops& loops = depthwise_loops();
    const AxisTaps rows = backward_axis(d.h, oh, d.kh, s, d.pad);
    const AxisTaps cols = backward_axis(d.w, ow, d.kw, s, d.pad);
    // With stride 1, 3 x 3: the input columns whose window of outputs lies inside,
    // 0 <= col + pad - 2, col + pad < ow.
    const bool window = s == 1 && d.kh == 3 && d.kw == 3;
    const WindowSpan in_cols =
        window ? window_span(d, d.w, 1, 2 - d.pad, ow - 1 - d.pad) : WindowSpan{};
    const bool stream = streams(dx, d.n * d.h * d.w * c, d.w * c);
    for_each_row(d.n * d.h, [&](int64_t t) {
      const int64_t b = t / d.h, r = t % d.h;
      thread_local std::vector<float> buffer;
      if (stream) buffer.resize(d.w * c);
      float* dxrow = stream ? buffer.data() : dx + t * d.w * c;
      if (window) {
        const auto dy_row = [&](int64_t i) { return dy + (b * oh + i) * ow * c; };
        data_row_3x3(loops, dxrow, dy_row, wtp, d, r, in_cols);
      } else {
        const auto at = [&](int64_t p, int64_t q, int64_t i, int64_t j) {
          return std::pair(dy + ((b * oh + i) * ow + j) * c, wtp + (p * d.kw + q) * c);
        };
        thread_local RowTaps taps;
        taps.clear();
        gather_row_taps(taps, rows, r, cols, 0, d.w, at);
        loops.sum_gathered(dxrow, taps, c);
      }
      if (stream) loops.store_rows(dx + t * d.w * c, dxrow, d.w * c, c, nullptr, false, true);
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
    const DepthwiseLoops& loops = depthwise_loops();
    const WindowSpan in_rows = window_span(d, oh, s, d.pad, d.h - 3 + d.pad);
    const WindowSpan in_cols = window_span(d, ow, s, d.pad, d.w - 3 + d.pad);
    sum_fixed_blocks(sum.data(), taps * c, ceil_div(d.n, per_block), partials,
                     [&](float* out, int64_t block) {
      std::fill_n(out, taps * c, 0.f);
      // Every sum runs over (b, i, j) in order.
      const int64_t last = std::min(d.n, (block + 1) * per_block);
      for (int64_t b = block * per_block; b < last; ++b) {
        for (int64_t i = 0; i < oh; ++i) {
          accumulate_weights_row(loops, out, dy + (b * oh + i) * ow * c, x, d, b, i,
                                 in_rows.contains(i) ? in_cols : WindowSpan{});
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

bool depthwise_relu_backward_fuses(const ConvDesc& d) {
  return d.channels_last && !d.bf16 && d.kh == 3 && d.kw == 3 && d.pad == 1 &&
         (d.stride == 1 || d.stride == 2);
}

// One pass over the images in depthwise_backward_weights' blocks: each output row of dy is
// masked into a ring of rows (its sums taken on the way), added into the block's weight
// gradient, and every input row whose last output row it is gets its dx, the loops of
// depthwise_backward_data and depthwise_backward_weights reading the ring instead of dy. Every
// sum keeps its order, so the bits are those of the unfused steps.
void depthwise_relu_backward(float* dx, float* dw, float* db, const float* dy, const float* y,
                             const float* x, const float* w, const ConvDesc& d) {
  const int64_t c = d.c_in, oh = d.oh(), ow = d.ow(), s = d.stride, taps = 9;
  const DepthwiseLoops& loops = depthwise_loops();
  thread_local std::vector<float> wt;
  transpose_weights(wt, w, c, taps);
  const float* wtp = wt.data();
  // Backward-data, as depthwise_backward_data.
  const AxisTaps data_rows = backward_axis(d.h, oh, 3, s, d.pad);
  const AxisTaps data_cols = backward_axis(d.w, ow, 3, s, d.pad);
  const WindowSpan data_in_cols =
      s == 1 ? window_span(d, d.w, 1, 2 - d.pad, ow - 1 - d.pad) : WindowSpan{};
  const bool stream = dx != nullptr && streams(dx, d.n * d.h * d.w * c, d.w * c);
  // Backward-weights, as depthwise_backward_weights.
  const WindowSpan weight_rows = window_span(d, oh, s, d.pad, d.h - 3 + d.pad);
  const WindowSpan weight_cols = window_span(d, ow, s, d.pad, d.w - 3 + d.pad);
  const int64_t per_block = images_per_block(d), blocks = ceil_div(d.n, per_block);
  MaskedGradSums sums(d.n * oh * ow, c, per_block * oh * ow, db);

  // The ring holds 4 masked output rows: an input row reads at most the last 3.
  constexpr int64_t kRing = 4;
  auto block = [&](float* acc, int64_t blk) {
    thread_local std::vector<float> ring, row_buffer;
    ring.resize(kRing * ow * c);
    if (stream) row_buffer.resize(d.w * c);
    auto masked_row = [&](int64_t i) { return ring.data() + (i % kRing) * ow * c; };
    if (acc != nullptr) std::fill_n(acc, taps * c, 0.f);
    auto data_row = [&](int64_t b, int64_t r) {
      float* out = stream ? row_buffer.data() : dx + (b * d.h + r) * d.w * c;
      const auto at = [&](int64_t p, int64_t q, int64_t i, int64_t j) {
        return std::pair<const float*, const float*>(masked_row(i) + j * c,
                                                     wtp + (p * 3 + q) * c);
      };
      if (s == 1) {
        data_row_3x3(loops, out, masked_row, wtp, d, r, data_in_cols);
      } else {
        thread_local RowTaps row_taps;
        row_taps.clear();
        gather_row_taps(row_taps, data_rows, r, data_cols, 0, d.w, at);
        loops.sum_gathered(out, row_taps, c);
      }
      if (stream) {
        loops.store_rows(dx + (b * d.h + r) * d.w * c, out, d.w * c, c, nullptr, false, true);
      }
    };
    const int64_t last = std::min(d.n, (blk + 1) * per_block);
    for (int64_t b = blk * per_block; b < last; ++b) {
      int64_t next_r = 0;  // the next input row whose dx is due
      for (int64_t i = 0; i < oh; ++i) {
        const int64_t first = (b * oh + i) * ow;
        sums.mask(masked_row(i), dy + first * c, y + first * c, first, first + ow);
        if (acc != nullptr) {
          accumulate_weights_row(loops, acc, masked_row(i), x, d, b, i,
                                 weight_rows.contains(i) ? weight_cols : WindowSpan{});
        }
        // Input row r reads output rows up to (r + pad) / s.
        for (; dx != nullptr && next_r < d.h && (next_r + d.pad) / s <= i; ++next_r) {
          data_row(b, next_r);
        }
      }
      for (; dx != nullptr && next_r < d.h; ++next_r) data_row(b, next_r);
    }
  };
  if (dw != nullptr) {
    thread_local std::vector<float> sum, partials;
    sum.resize(taps * c);
    sum_fixed_blocks(sum.data(), taps * c, blocks, partials, block);
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t t = 0; t < taps; ++t) dw[ch * taps + t] = sum[t * c + ch];
  } else {
    for_each_fixed_block(blocks, [&](int64_t blk) { block(nullptr, blk); });
  }
  sums.finish(dy, y);
}

}  // namespace ar1::kernels::cpu::portable
