// The CPU convolution kernels of every set the build has (portable, and oneDNN where built)
// against the naive reference loops, per op and per shape. The primitive-cache cases are about
// oneDNN itself and report Skipped in a build without it.
// To add a shape: add a ConvDesc to the cases of the matching TEST_CASE (or a new TEST_CASE
// named "conv2d ..." calling check_all_ops).
//
// Tolerance: max |cpu - reference| <= 1e-4 * (1 + max |reference|). The reference accumulates in
// double; the kernels sum in f32 in their own order, an error that grows with the reduction
// length (at most a few hundred terms here) and with the magnitude of the result.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/rng.h"
#include "kernels/conv2d.h"
#include "kernels/threading.h"
#include "tests/support/channels_last.h"
#include "tests/support/cpu_kernel_sets.h"
#include "tests/support/skip_test.h"
#ifdef AR1_WITH_ONEDNN  // tests/kernels/CMakeLists.txt: a build with oneDNN
#include "kernels/cpu/onednn/onednn_context.h"
#endif

namespace {

using ar1::Generator;
using ar1::Tensor;
using ar1::kernels::ConvDesc;
using ar1::testing::relayout;
namespace cpu = ar1::kernels::cpu;
namespace reference = ar1::kernels::reference;

constexpr double kRelTol = 1e-4;

struct Diff {
  double max_abs_diff = 0.0;
  double max_abs_ref = 0.0;
  bool within() const { return max_abs_diff <= kRelTol * (1.0 + max_abs_ref); }
};

Diff compare(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  Diff d;
  for (size_t i = 0; i < got.size(); ++i) {
    d.max_abs_diff = std::max(d.max_abs_diff, std::abs(double(got[i]) - double(want[i])));
    d.max_abs_ref = std::max(d.max_abs_ref, std::abs(double(want[i])));
  }
  return d;
}

std::vector<float> random_values(int64_t count, Generator& gen) {
  Tensor t = ar1::normal({count}, gen);
  const float* p = t.data<float>();
  return std::vector<float>(p, p + count);
}

int64_t x_size(const ConvDesc& d) { return d.n * d.c_in * d.h * d.w; }
int64_t w_size(const ConvDesc& d) { return d.c_out * (d.c_in / d.groups) * d.kh * d.kw; }
int64_t y_size(const ConvDesc& d) { return d.n * d.c_out * d.oh() * d.ow(); }

std::string describe(const ConvDesc& d) {
  return "n=" + std::to_string(d.n) + " c_in=" + std::to_string(d.c_in) + " " +
         std::to_string(d.h) + "x" + std::to_string(d.w) + " c_out=" + std::to_string(d.c_out) +
         " k=" + std::to_string(d.kh) + "x" + std::to_string(d.kw) +
         " stride=" + std::to_string(d.stride) + " pad=" + std::to_string(d.pad) +
         " groups=" + std::to_string(d.groups);
}

// Output buffers start as NaN-free garbage (a constant) so that "overwrite, never accumulate"
// is checked too.
constexpr float kStale = 7.f;

// Runs the three CPU ops and the three reference ops on the same random inputs and checks
// each pair, in planar and in channels-last layout (the model's); MESSAGE prints the max error
// for the log.
void check_all_ops(ConvDesc d, uint64_t seed);

void check_all_ops_in_layout(const ConvDesc& d, uint64_t seed) {
  const std::string what = describe(d) + (d.channels_last ? " channels-last" : " planar");
  INFO(what);
  Generator gen(seed);
  const std::vector<float> x = random_values(x_size(d), gen);
  const std::vector<float> w = random_values(w_size(d), gen);
  const std::vector<float> dy = random_values(y_size(d), gen);
  const int64_t hw_in = d.h * d.w, hw_out = d.oh() * d.ow();
  // The CPU kernels see the layout under test; the reference and the comparison are planar.
  const auto in = [&](const std::vector<float>& v, int64_t c, int64_t hw) {
    return d.channels_last ? relayout(v, d.n, c, hw, true) : v;
  };
  const auto out = [&](const std::vector<float>& v, int64_t c, int64_t hw) {
    return d.channels_last ? relayout(v, d.n, c, hw, false) : v;
  };
  const std::vector<float> x_in = in(x, d.c_in, hw_in), dy_in = in(dy, d.c_out, hw_out);

  std::vector<float> y(y_size(d), kStale), y_ref(y_size(d));
  cpu::conv2d_forward(y.data(), x_in.data(), w.data(), d);
  y = out(y, d.c_out, hw_out);
  reference::conv2d_forward(y_ref.data(), x.data(), w.data(), d);
  const Diff fwd = compare(y, y_ref);
  MESSAGE("forward max abs diff " << fwd.max_abs_diff << " (max |ref| " << fwd.max_abs_ref
                                  << ") " << describe(d));
  CHECK(fwd.within());

  std::vector<float> dx(x_size(d), kStale), dx_ref(x_size(d));
  cpu::conv2d_backward_data(dx.data(), dy_in.data(), w.data(), d);
  dx = out(dx, d.c_in, hw_in);
  reference::conv2d_backward_data(dx_ref.data(), dy.data(), w.data(), d);
  const Diff bwd_data = compare(dx, dx_ref);
  MESSAGE("backward data max abs diff " << bwd_data.max_abs_diff << " (max |ref| "
                                        << bwd_data.max_abs_ref << ") " << describe(d));
  CHECK(bwd_data.within());

  std::vector<float> dw(w_size(d), kStale), dw_ref(w_size(d));
  cpu::conv2d_backward_weights(dw.data(), dy_in.data(), x_in.data(), d);
  reference::conv2d_backward_weights(dw_ref.data(), dy.data(), x.data(), d);
  const Diff bwd_weights = compare(dw, dw_ref);
  MESSAGE("backward weights max abs diff " << bwd_weights.max_abs_diff << " (max |ref| "
                                           << bwd_weights.max_abs_ref << ") " << describe(d));
  CHECK(bwd_weights.within());
}

void check_all_ops(ConvDesc d, uint64_t seed) {
  for (const auto set : ar1::testing::cpu_kernel_sets()) {
    const ar1::testing::ScopedCpuKernels use(set);
    INFO("cpu kernels: " << ar1::kernels::cpu_kernels_name(set));
    for (bool channels_last : {false, true}) {
      d.channels_last = channels_last;
      check_all_ops_in_layout(d, seed);
    }
  }
}

ConvDesc make(int64_t n, int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t k,
              int64_t stride, int64_t pad, int64_t groups) {
  ConvDesc d;
  d.n = n, d.c_in = c_in, d.h = h, d.w = w, d.c_out = c_out, d.kh = k, d.kw = k;
  d.stride = stride, d.pad = pad, d.groups = groups;
  return d;
}

}  // namespace

TEST_CASE("conv2d dense 3x3 stride 1 matches reference") {
  check_all_ops(make(2, 3, 9, 9, 5, 3, 1, 1, 1), 1);
  check_all_ops(make(2, 3, 8, 8, 5, 3, 1, 1, 1), 2);
  check_all_ops(make(2, 16, 8, 8, 32, 3, 1, 1, 1), 3);  // channels that fill oneDNN's blocks
}

TEST_CASE("conv2d dense 3x3 stride 2 matches reference") {
  check_all_ops(make(2, 3, 9, 9, 5, 3, 2, 1, 1), 11);
  check_all_ops(make(2, 3, 8, 8, 5, 3, 2, 1, 1), 12);  // (8 + 2 - 3) / 2 floors: last row unused
  check_all_ops(make(2, 3, 9, 9, 5, 3, 2, 0, 1), 13);  // no padding
}

TEST_CASE("conv2d depthwise 3x3 stride 1 matches reference") {
  check_all_ops(make(2, 6, 9, 9, 6, 3, 1, 1, 6), 21);
  check_all_ops(make(2, 6, 8, 8, 6, 3, 1, 1, 6), 22);
}

TEST_CASE("conv2d depthwise 3x3 stride 2 matches reference") {
  check_all_ops(make(2, 6, 9, 9, 6, 3, 2, 1, 6), 31);
  check_all_ops(make(2, 6, 8, 8, 6, 3, 2, 1, 6), 32);
}

TEST_CASE("conv2d pointwise 1x1 matches reference") {
  check_all_ops(make(2, 7, 9, 9, 4, 1, 1, 0, 1), 41);
  check_all_ops(make(2, 7, 8, 8, 4, 1, 2, 0, 1), 42);  // strided 1x1 (a ResNet shortcut)
}

// MobileNetV1 a=0.25's channel counts (8 to 256): whole and partial register blocks of every
// ISA's layouts (oneDNN blocks channels by 8 on AVX2, by 16 on AVX-512).
TEST_CASE("conv2d mobilenet-sized channels match reference") {
  for (int64_t c : {8, 16, 24, 32, 64}) {
    check_all_ops(make(4, c, 8, 8, c, 3, 1, 1, c), 60 + c);      // depthwise
    check_all_ops(make(4, c, 8, 8, c, 3, 2, 1, c), 61 + c);      // depthwise, stride 2
    check_all_ops(make(4, c, 4, 4, 2 * c, 1, 1, 0, 1), 62 + c);  // pointwise
  }
  check_all_ops(make(4, 3, 16, 16, 8, 3, 2, 1, 1), 59);          // the first convolution
}

TEST_CASE("conv2d non-square input and batch 1 match reference") {
  check_all_ops(make(1, 3, 7, 12, 5, 3, 1, 1, 1), 51);
  check_all_ops(make(1, 3, 11, 6, 5, 3, 2, 1, 1), 52);
  check_all_ops(make(1, 6, 5, 10, 6, 3, 2, 1, 6), 53);  // depthwise
  ConvDesc rect = make(1, 4, 9, 7, 3, 1, 1, 0, 1);      // non-square kernel 3x2
  rect.kh = 3, rect.kw = 2, rect.pad = 1;
  check_all_ops(rect, 54);
}

TEST_CASE("conv2d reuses cached primitives for a repeated shape") {
#ifndef AR1_WITH_ONEDNN
  ar1::testing::skip_test("built without oneDNN (-DAR1_ONEDNN=OFF): no primitive cache");
#else
  const ConvDesc d = make(2, 5, 10, 10, 8, 3, 1, 1, 1);  // a shape no other test uses
  Generator gen(61);
  const std::vector<float> x = random_values(x_size(d), gen);
  const std::vector<float> w = random_values(w_size(d), gen);
  const std::vector<float> dy = random_values(y_size(d), gen);
  std::vector<float> y(y_size(d)), dx(x_size(d)), dw(w_size(d));

  auto& ctx = cpu::OneDnnContext::instance();
  const size_t before = ctx.cache_size();
  cpu::conv2d_forward(y.data(), x.data(), w.data(), d);
  cpu::conv2d_backward_data(dx.data(), dy.data(), w.data(), d);
  cpu::conv2d_backward_weights(dw.data(), dy.data(), x.data(), d);
  const size_t after_first = ctx.cache_size();
  CHECK(after_first == before + 3);  // one entry per op

  const std::vector<float> y_first = y, dx_first = dx, dw_first = dw;
  std::fill(y.begin(), y.end(), kStale);
  cpu::conv2d_forward(y.data(), x.data(), w.data(), d);
  cpu::conv2d_backward_data(dx.data(), dy.data(), w.data(), d);
  cpu::conv2d_backward_weights(dw.data(), dy.data(), x.data(), d);
  CHECK(ctx.cache_size() == after_first);
  // Same primitive, same inputs: bit-identical outputs.
  CHECK(y == y_first);
  CHECK(dx == dx_first);
  CHECK(dw == dw_first);
#endif
}

TEST_CASE("conv2d n <= 0 threads means all cores") {
  const int saved = ar1::kernels::num_threads();
  ar1::kernels::set_num_threads(0);
  CHECK(ar1::kernels::num_threads() >= 1);
  ar1::kernels::set_num_threads(saved);
}

TEST_CASE("conv2d primitive cache stays bounded and keeps results right after eviction") {
#ifndef AR1_WITH_ONEDNN
  ar1::testing::skip_test("built without oneDNN (-DAR1_ONEDNN=OFF): no primitive cache");
#else
  // AR1 changes its batch size with every experience: each new batch size is a new shape.
  auto& ctx = cpu::OneDnnContext::instance();
  ConvDesc d;
  d.c_in = 2, d.h = 3, d.w = 3, d.c_out = 2, d.kh = 1, d.kw = 1;
  Generator gen(62);
  for (int64_t n = 1; n <= static_cast<int64_t>(cpu::OneDnnContext::kMaxEntries) + 20; ++n) {
    d.n = n;
    std::vector<float> x = random_values(x_size(d), gen), w = random_values(w_size(d), gen);
    std::vector<float> y(y_size(d)), ref(y_size(d));
    cpu::conv2d_forward(y.data(), x.data(), w.data(), d);
    if (n == 1 || n % 50 == 0) {
      reference::conv2d_forward(ref.data(), x.data(), w.data(), d);
      for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(ref[i]).epsilon(1e-5));
    }
  }
  CHECK(ctx.cache_size() <= cpu::OneDnnContext::kMaxEntries);
  d.n = 1;  // evicted long ago: rebuilt, still right
  std::vector<float> x = random_values(x_size(d), gen), w = random_values(w_size(d), gen);
  std::vector<float> y(y_size(d)), ref(y_size(d));
  cpu::conv2d_forward(y.data(), x.data(), w.data(), d);
  reference::conv2d_forward(ref.data(), x.data(), w.data(), d);
  for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(ref[i]).epsilon(1e-5));
#endif
}
