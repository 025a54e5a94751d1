// Dense and general grouped convolutions (e.g. MobileNetV1's 3x3/2 stem on 3 channels) as
// im2col + GEMM, one image at a time, per group g of G = groups (cg = c_in / G input and
// og = c_out / G output channels, K = cg kh kw, P = oh ow output pixels), channels-last:
//   col [P, K], K ordered (p, q, c); the weights reordered once to wr [c_out, K] in that order
//   forward           y_i[:, g] = col wr_g^T
//   backward-data     dcol = dy_i[:, g] wr_g, added back into dx_i (col2im)
//   backward-weights  dwr_g = sum over the images of dy_i[:, g]^T col
// Backward-weights sums over the images of a block of the batch fixed by the shape, and the
// blocks' partials are added in block order (fixed_blocks.h); forward and backward-data give
// each image to one thread; every GEMM is our own (gemm.h: one fma chain per output). So the
// bits depend on the shapes alone.
//
// NCHW runs the same computation on each image transposed to channels-last (and its result
// transposed back): a plain out= buffer then gets the bits of the channels-last call
// (tests/nn/functional_forward_test.cpp), at the cost of the transposes.
#include <algorithm>
#include <vector>

#include "kernels/cpu/fixed_blocks.h"
#include "kernels/cpu/portable/conv_algorithms.h"
#include "kernels/cpu/portable/gemm.h"

namespace ar1::kernels::cpu::portable {

namespace {

struct Sizes {
  int64_t cg, og, k, p;
  explicit Sizes(const ConvDesc& d)
      : cg(d.c_in / d.groups), og(d.c_out / d.groups), k(cg * d.kh * d.kw), p(d.oh() * d.ow()) {}
};

// Calls tap(i, j, p, q, r, s) for every output pixel (i, j) and kernel tap (p, q), in that
// order, with (r, s) the input pixel of the tap or a negative r where it falls in the padding.
template <class Tap>
void for_each_tap(const ConvDesc& d, Tap&& tap) {
  const int64_t oh = d.oh(), ow = d.ow();
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j)
      for (int64_t p = 0; p < d.kh; ++p)
        for (int64_t q = 0; q < d.kw; ++q) {
          const int64_t r = i * d.stride - d.pad + p, s = j * d.stride - d.pad + q;
          const bool inside = r >= 0 && r < d.h && s >= 0 && s < d.w;
          tap(i, j, p, q, inside ? r : -1, s);
        }
}

// Copies n floats. The runs here are a few floats long (the stem's are 3 and 9), where a call
// to memmove costs more than the copy, so the common lengths get loops the compiler unrolls.
template <int64_t N>
void copy_run(float* dst, const float* src) {
  for (int64_t k = 0; k < N; ++k) dst[k] = src[k];
}
void copy_floats(float* dst, const float* src, int64_t n) {
  switch (n) {
    case 3: return copy_run<3>(dst, src);
    case 9: return copy_run<9>(dst, src);
    default: std::copy_n(src, n, dst);
  }
}

// col [P, K] of group g of one channels-last image x_i [h, w, c_in]: for each output pixel and
// kernel row p, the kw taps' channels, one contiguous run of the input where the taps lie
// inside the row and the group is all the channels.
void im2col_channels_last(float* col, const float* x_i, const ConvDesc& d, int64_t g,
                          const Sizes& z) {
  const int64_t oh = d.oh(), ow = d.ow(), run = d.kw * z.cg;
  for (int64_t i = 0; i < oh; ++i) {
    for (int64_t j = 0; j < ow; ++j) {
      const int64_t s0 = j * d.stride - d.pad;
      const bool whole_run = s0 >= 0 && s0 + d.kw <= d.w && z.cg == d.c_in;
      for (int64_t p = 0; p < d.kh; ++p) {
        float* dst = col + (i * ow + j) * z.k + p * run;
        const int64_t r = i * d.stride - d.pad + p;
        if (r < 0 || r >= d.h) {
          std::fill_n(dst, run, 0.f);
        } else if (whole_run) {
          copy_floats(dst, x_i + (r * d.w + s0) * d.c_in, run);
        } else {
          for (int64_t q = 0; q < d.kw; ++q) {
            const int64_t s = s0 + q;
            if (s < 0 || s >= d.w) {
              std::fill_n(dst + q * z.cg, z.cg, 0.f);
            } else {
              copy_floats(dst + q * z.cg, x_i + (r * d.w + s) * d.c_in + g * z.cg, z.cg);
            }
          }
        }
      }
    }
  }
}

// dx_i [h, w, c_in] (channels of group g) += col2im(dcol [P, K]).
void col2im_channels_last(float* dx_i, const float* dcol, const ConvDesc& d, int64_t g,
                          const Sizes& z) {
  const int64_t ow = d.ow();
  for_each_tap(d, [&](int64_t i, int64_t j, int64_t p, int64_t q, int64_t r, int64_t s) {
    if (r < 0) return;
    const float* src = dcol + (i * ow + j) * z.k + (p * d.kw + q) * z.cg;
    float* dst = dx_i + (r * d.w + s) * d.c_in + g * z.cg;
    for (int64_t c = 0; c < z.cg; ++c) dst[c] += src[c];
  });
}

// w [c_out, cg, kh, kw] -> wr [c_out, K] with K ordered (p, q, c), each output channel's
// weights times scale[o] where scale is given; and back.
void reorder_weights(std::vector<float>& wr, const float* w, const ConvDesc& d, const Sizes& z,
                     const float* scale = nullptr) {
  wr.resize(d.c_out * z.k);
  for (int64_t o = 0; o < d.c_out; ++o)
    for (int64_t c = 0; c < z.cg; ++c)
      for (int64_t p = 0; p < d.kh; ++p)
        for (int64_t q = 0; q < d.kw; ++q) {
          const float v = w[((o * z.cg + c) * d.kh + p) * d.kw + q];
          wr[o * z.k + (p * d.kw + q) * z.cg + c] = scale != nullptr ? v * scale[o] : v;
        }
}
void unreorder_weights(float* w, const float* wr, const ConvDesc& d, const Sizes& z) {
  for (int64_t o = 0; o < d.c_out; ++o)
    for (int64_t c = 0; c < z.cg; ++c)
      for (int64_t p = 0; p < d.kh; ++p)
        for (int64_t q = 0; q < d.kw; ++q)
          w[((o * z.cg + c) * d.kh + p) * d.kw + q] = wr[o * z.k + (p * d.kw + q) * z.cg + c];
}

// The calling thread's column buffer of K x P floats (grows to the largest need).
float* column_buffer(const Sizes& z) {
  thread_local std::vector<float> col;
  if (col.size() < static_cast<size_t>(z.k * z.p)) col.resize(z.k * z.p);
  return col.data();
}

// One image, channels-last: y_i [P, c_out] from x_i [h, w, c_in].
void forward_image(float* y_i, const float* x_i, const float* wr, const ConvDesc& d,
                   const float* bias, const Sizes& z) {
  float* col = column_buffer(z);
  for (int64_t g = 0; g < d.groups; ++g) {
    im2col_channels_last(col, x_i, d, g, z);
    // The bias and ReLU applied by the GEMM's tiles, while still in registers.
    gemm(y_i + g * z.og, col, wr + g * z.og * z.k,
         {.m = z.p, .n = z.og, .k = z.k, .trans_b = true, .lda = z.k, .ldb = z.k,
          .ldc = d.c_out, .bias = bias != nullptr ? bias + g * z.og : nullptr,
          .relu = bias != nullptr && d.relu});
  }
}

// One image, channels-last: dx_i [h, w, c_in] from dy_i [P, c_out].
void backward_data_image(float* dx_i, const float* dy_i, const float* wr, const ConvDesc& d,
                         const Sizes& z) {
  float* dcol = column_buffer(z);
  std::fill_n(dx_i, d.c_in * d.h * d.w, 0.f);
  for (int64_t g = 0; g < d.groups; ++g) {
    gemm(dcol, dy_i + g * z.og, wr + g * z.og * z.k,
         {.m = z.p, .n = z.k, .k = z.og, .lda = d.c_out, .ldb = z.k, .ldc = z.k});
    col2im_channels_last(dx_i, dcol, d, g, z);
  }
}

// One image, channels-last: dwr [c_out, K] = (first ? 0 : dwr) + dy_i^T col(x_i), per group;
// each output's fma chain runs on from one image to the next.
void weights_image(float* dwr, const float* dy_i, const float* x_i, const ConvDesc& d,
                   const Sizes& z, bool first) {
  float* col = column_buffer(z);
  for (int64_t g = 0; g < d.groups; ++g) {
    im2col_channels_last(col, x_i, d, g, z);
    gemm(dwr + g * z.og * z.k, dy_i + g * z.og, col,
         {.m = z.og, .n = z.k, .k = z.p, .trans_a = true, .lda = d.c_out, .ldb = z.k,
          .ldc = z.k, .accumulate = !first});
  }
}

// dst [cols, rows] = src [rows, cols]^T: an image between [C, pixels] and [pixels, C].
void transpose(float* dst, const float* src, int64_t rows, int64_t cols) {
  constexpr int64_t kTile = 32;  // tiles of both, so reads and writes stay in cache lines
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile)
      for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
        for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c) {
          dst[c * rows + r] = src[r * cols + c];
        }
}

// The calling thread's buffer for one transposed image (two of them: `which` 0 or 1).
float* image_buffer(int which, int64_t count) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& b = buffers[which];
  if (b.size() < static_cast<size_t>(count)) b.resize(count);
  return b.data();
}

}  // namespace

void im2col_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias, const float* w_scale) {
  const Sizes z(d);
  const int64_t pixels = d.h * d.w, x_image = d.c_in * pixels, y_image = d.c_out * z.p;
  thread_local std::vector<float> wr;  // the calling thread's: workers see it through wrp
  reorder_weights(wr, w, d, z, w_scale);
  const float* wrp = wr.data();
  for_each_fixed_block(d.n, [&](int64_t b) {
    if (d.channels_last) {
      forward_image(y + b * y_image, x + b * x_image, wrp, d, bias, z);
      return;
    }
    float* x_cl = image_buffer(0, x_image);
    float* y_cl = image_buffer(1, y_image);
    transpose(x_cl, x + b * x_image, d.c_in, pixels);
    forward_image(y_cl, x_cl, wrp, d, bias, z);
    transpose(y + b * y_image, y_cl, z.p, d.c_out);
  });
}

void im2col_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d) {
  const Sizes z(d);
  const int64_t pixels = d.h * d.w, x_image = d.c_in * pixels, y_image = d.c_out * z.p;
  thread_local std::vector<float> wr;  // the calling thread's: workers see it through wrp
  reorder_weights(wr, w, d, z);
  const float* wrp = wr.data();
  for_each_fixed_block(d.n, [&](int64_t b) {
    if (d.channels_last) {
      backward_data_image(dx + b * x_image, dy + b * y_image, wrp, d, z);
      return;
    }
    float* dy_cl = image_buffer(0, y_image);
    float* dx_cl = image_buffer(1, x_image);
    transpose(dy_cl, dy + b * y_image, d.c_out, z.p);
    backward_data_image(dx_cl, dy_cl, wrp, d, z);
    transpose(dx + b * x_image, dx_cl, pixels, d.c_in);
  });
}

void im2col_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d) {
  const Sizes z(d);
  const int64_t pixels = d.h * d.w, x_image = d.c_in * pixels, y_image = d.c_out * z.p;
  const int64_t w_count = d.c_out * z.k, per_block = images_per_block(d);
  // Summed in the (p, q, c) order of wr, reordered to dw's once at the end.
  thread_local std::vector<float> dwr, partials;
  dwr.resize(w_count);
  sum_fixed_blocks(dwr.data(), w_count, ceil_div(d.n, per_block), partials,
                   [&](float* out, int64_t block) {
    const int64_t first = block * per_block, last = std::min(d.n, first + per_block);
    for (int64_t b = first; b < last; ++b) {
      if (d.channels_last) {
        weights_image(out, dy + b * y_image, x + b * x_image, d, z, b == first);
        continue;
      }
      float* dy_cl = image_buffer(0, y_image);
      float* x_cl = image_buffer(1, x_image);
      transpose(dy_cl, dy + b * y_image, d.c_out, z.p);
      transpose(x_cl, x + b * x_image, d.c_in, pixels);
      weights_image(out, dy_cl, x_cl, d, z, b == first);
    }
  });
  unreorder_weights(dw, dwr.data(), d, z);
}

}  // namespace ar1::kernels::cpu::portable
