// bf16 convolutions (ConvDesc::bf16, kernels/precision.h) against the f32 reference loops.
//
// Tolerance, per output element: rounding an input to bf16 moves it by at most 2^-9 relative
// to nearest, 2^-8 toward zero (oneDNN 2.6's depthwise kernels were seen 1.08 x 2^-8 off on a
// single product, so not every conversion there rounds to nearest); a product of two rounded
// inputs is then within 2^-7 + 2^-16, and oneDNN sums in f32 (at most K 2^-24 relative to the
// sum of |terms| for K terms). So
//   |bf16 - reference| <= (2^-7 + 2^-16 + K 2^-24) * sum |terms|,
// where sum |terms| is the reference convolution of the absolute values. A wrong index or an
// input left unrounded where it should not be shows up far beyond it, or (second check) as no
// difference from f32 at all.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.h"
#include "kernels/conv2d.h"
#include "kernels/precision.h"
#include "tests/support/channels_last.h"
#include "tests/support/skip_test.h"

namespace {

using ar1::kernels::ConvDesc;
using ar1::testing::relayout;
namespace cpu = ar1::kernels::cpu;
namespace reference = ar1::kernels::reference;

std::vector<float> random_values(int64_t count, uint64_t seed) {
  ar1::Generator gen(seed);
  const ar1::Tensor t = ar1::normal({count}, gen);
  return std::vector<float>(t.data<float>(), t.data<float>() + count);
}

std::vector<float> absolute(std::vector<float> v) {
  for (float& f : v) f = std::abs(f);
  return v;
}

struct Check {
  int64_t bad = 0;
  double max_diff_from_f32 = 0;
};

void compare(Check& c, const std::vector<float>& got, const std::vector<float>& want,
             const std::vector<float>& magnitude, const std::vector<float>& f32, int64_t k) {
  const double rel = 0x1p-7 + 0x1p-16 + double(k) * 0x1p-24;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::abs(double(got[i]) - want[i]) <= rel * magnitude[i] + 1e-30)) ++c.bad;
    c.max_diff_from_f32 = std::max(c.max_diff_from_f32, std::abs(double(got[i]) - f32[i]));
  }
}

// The three ops in bf16 and in f32 on the same inputs, in the layout `d` asks for; the
// reference runs NCHW. `computes_in_bf16`: whether the CPU backend uses bf16 for this shape
// (dense convolutions on more than 2048 rows) or keeps it f32 (kernels/cpu/conv2d.cpp).
void check_bf16(ConvDesc d, bool computes_in_bf16) {
  if (!ar1::kernels::bf16_convolutions_supported()) {
    ar1::testing::skip_test("this CPU has no bf16 convolutions (needs AVX-512)");
  }
  CAPTURE(d.c_in);
  CAPTURE(d.c_out);
  CAPTURE(d.kh);
  CAPTURE(d.groups);
  CAPTURE(d.channels_last);
  const int64_t xs = d.n * d.c_in * d.h * d.w, ys = d.n * d.c_out * d.oh() * d.ow();
  const int64_t ws = d.c_out * (d.c_in / d.groups) * d.kh * d.kw;
  const int64_t hw_in = d.h * d.w, hw_out = d.oh() * d.ow();
  const auto x = random_values(xs, 1), w = random_values(ws, 2), dy = random_values(ys, 3);
  const int64_t k = std::max({(d.c_in / d.groups) * d.kh * d.kw,
                              (d.c_out / d.groups) * d.kh * d.kw, d.n * hw_out});
  // Inputs and outputs in the layout of d; nhwc ones converted for the reference.
  const auto in_x = d.channels_last ? relayout(x, d.n, d.c_in, hw_in, true) : x;
  const auto in_dy = d.channels_last ? relayout(dy, d.n, d.c_out, hw_out, true) : dy;
  const auto back_y = [&](const std::vector<float>& v) {
    return d.channels_last ? relayout(v, d.n, d.c_out, hw_out, false) : v;
  };
  const auto back_x = [&](const std::vector<float>& v) {
    return d.channels_last ? relayout(v, d.n, d.c_in, hw_in, false) : v;
  };
  std::vector<float> ref_y(ys), mag_y(ys), ref_dx(xs), mag_dx(xs), ref_dw(ws), mag_dw(ws);
  reference::conv2d_forward(ref_y.data(), x.data(), w.data(), d);
  reference::conv2d_forward(mag_y.data(), absolute(x).data(), absolute(w).data(), d);
  reference::conv2d_backward_data(ref_dx.data(), dy.data(), w.data(), d);
  reference::conv2d_backward_data(mag_dx.data(), absolute(dy).data(), absolute(w).data(), d);
  reference::conv2d_backward_weights(ref_dw.data(), dy.data(), x.data(), d);
  reference::conv2d_backward_weights(mag_dw.data(), absolute(dy).data(), absolute(x).data(), d);

  std::vector<float> y[2], dx[2], dw[2];  // [0] f32, [1] bf16
  for (int bf16 = 0; bf16 < 2; ++bf16) {
    d.bf16 = bf16 == 1;
    y[bf16].assign(ys, 7.f), dx[bf16].assign(xs, 7.f), dw[bf16].assign(ws, 7.f);
    cpu::conv2d_forward(y[bf16].data(), in_x.data(), w.data(), d);
    cpu::conv2d_backward_data(dx[bf16].data(), in_dy.data(), w.data(), d);
    cpu::conv2d_backward_weights(dw[bf16].data(), in_dy.data(), in_x.data(), d);
  }
  Check fwd, data, weights;
  compare(fwd, back_y(y[1]), ref_y, mag_y, back_y(y[0]), k);
  compare(data, back_x(dx[1]), ref_dx, mag_dx, back_x(dx[0]), k);
  compare(weights, dw[1], ref_dw, mag_dw, dw[0], k);
  CHECK(fwd.bad == 0);
  CHECK(data.bad == 0);
  CHECK(weights.bad == 0);
  if (computes_in_bf16) {
    // bf16 was really used: rounding 2^-9 of N(0, 1) inputs moves sums of several terms.
    CHECK(fwd.max_diff_from_f32 > 1e-4);
    CHECK(data.max_diff_from_f32 > 1e-4);
    CHECK(weights.max_diff_from_f32 > 1e-4);
  } else {
    CHECK(fwd.max_diff_from_f32 == 0);
    CHECK(data.max_diff_from_f32 == 0);
    CHECK(weights.max_diff_from_f32 == 0);
  }
}

ConvDesc make(int64_t n, int64_t c_in, int64_t hw, int64_t c_out, int64_t k, int64_t stride,
              int64_t groups, bool channels_last) {
  ConvDesc d;
  d.n = n, d.c_in = c_in, d.h = hw, d.w = hw, d.c_out = c_out, d.kh = k, d.kw = k;
  d.stride = stride, d.pad = k / 2, d.groups = groups, d.channels_last = channels_last;
  return d;
}

}  // namespace

TEST_CASE("conv2d bf16 pointwise matches the reference within bf16 rounding") {
  check_bf16(make(24, 48, 10, 32, 1, 1, 1, true), true);  // 2400 rows: bf16 primitives
  check_bf16(make(2, 24, 5, 40, 1, 1, 1, false), true);   // NCHW: blocked layouts, reorders
  check_bf16(make(4, 48, 6, 32, 1, 1, 1, true), false);   // 144 rows: the f32 sgemm
}

TEST_CASE("conv2d bf16 dense 3x3 matches the reference and depthwise stays f32") {
  check_bf16(make(2, 3, 11, 16, 3, 2, 1, true), true);  // MobileNetV1's first layer
  check_bf16(make(3, 32, 9, 32, 3, 1, 32, true), false);
  check_bf16(make(3, 32, 9, 32, 3, 2, 32, true), false);
}

TEST_CASE("bf16 precision: the setting round-trips and unknown names are refused") {
  using ar1::kernels::Precision;
  CHECK(ar1::kernels::parse_precision("bf16") == Precision::bf16);
  CHECK(ar1::kernels::precision_name(Precision::f32) == "f32");
  CHECK_THROWS_WITH(ar1::kernels::parse_precision("fp16"),
                    doctest::Contains("choose f32 or bf16"));
  CHECK(ar1::kernels::conv_precision() == Precision::f32);  // the default
}
