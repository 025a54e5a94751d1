#pragma once
// The inner loops of the channels-last depthwise convolution (depthwise_conv.cpp), written once
// (depthwise_vector_loops.inc) and compiled for each vector instruction set; depthwise_loops()
// gives those of vector_isa() (vector_isa.h). Every output is the fma chain over its taps in
// (p, q) order from +0, vectors running across channels only, so every set gives the same bits.
#include <cstdint>
#include <vector>

namespace ar1::kernels::cpu::portable {

// Taps of some pixels of one row, in (p, q) order: pixel k is column col[k] of the row, and its
// taps are [first[k], first[k + 1]), each where its C values and its C weights start.
struct RowTaps {
  std::vector<const float*> values, weights;
  std::vector<int64_t> first{0}, col;
  void clear() {
    values.clear();
    weights.clear();
    first.assign(1, 0);
    col.clear();
  }
  void add(const float* v, const float* w) {
    values.push_back(v);
    weights.push_back(w);
  }
  void end_pixel(int64_t column) {
    first.push_back(static_cast<int64_t>(values.size()));
    col.push_back(column);
  }
  int64_t pixels() const { return static_cast<int64_t>(col.size()); }
};

// A 3 x 3 window whose taps all land inside: pixel j of the row reads, for tap (p, q), the C
// values at rows[p] + (j stride + offset[q]) C, with the C weights at weights + (3 p + q) C.
struct Window3x3 {
  const float* rows[3];
  const float* weights;
  int64_t stride;
  int64_t offset[3];
};

struct DepthwiseLoops {
  // out + col[k] C gets pixel k's sums, for every pixel of taps.
  void (*sum_gathered)(float* out, const RowTaps& taps, int64_t c);
  // out + j C gets pixel j's sums, for j in [j0, j1).
  void (*sum_window_3x3)(float* out, const Window3x3& window, int64_t c, int64_t j0,
                         int64_t j1);
  // Backward-weights: acc [9, C] += for j in [j0, j1) in order, tap (p, q): the C products of
  // dy_row + j C with the window's values (each sum one fma chain over j).
  void (*accumulate_window_3x3)(float* acc, const float* dy_row, const Window3x3& window,
                                int64_t c, int64_t j0, int64_t j1);
  // out [count] = sums (+ bias [C] per pixel of C values, then std::max(v, 0.f) when relu), as
  // add_bias computes it; with stream, past the caches (out aligned to the vector width).
  void (*store_rows)(float* out, const float* sums, int64_t count, int64_t c, const float* bias,
                     bool relu, bool stream);
  // out (one pixel's C values) gets pixel j's sums over the taps (p, q) of [p0, p1) x [q0, q1)
  // only, in (p, q) order (a window clipped by the border; rows[p] needed for those p only).
  void (*sum_window_taps)(float* out, const Window3x3& window, int64_t c, int64_t j, int p0,
                          int p1, int q0, int q1);
};
const DepthwiseLoops& depthwise_loops();

}  // namespace ar1::kernels::cpu::portable
