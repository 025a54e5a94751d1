// Every CPU kernel that reduces gives the same bits on 1, 2 and 3 threads: the reductions run
// in an order fixed by the shape, never by the thread count (README, "Threads and determinism").
// To cover another kernel: add a TEST_CASE that computes its outputs in a lambda and hands it to
// same_bits_on_every_thread_count.
#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "kernels/conv2d.h"
#include "kernels/matmul.h"
#include "kernels/threading.h"
#include "tests/support/cpu_kernel_sets.h"

namespace {

using ar1::Generator;
using ar1::kernels::ConvDesc;
using ar1::kernels::MatmulDesc;
namespace cpu = ar1::kernels::cpu;

std::vector<float> random_values(int64_t count, uint64_t seed) {
  Generator gen(seed);
  const ar1::Tensor t = ar1::normal({count}, gen);
  return std::vector<float>(t.data<float>(), t.data<float>() + count);
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs `compute` (which returns its outputs) on 1, 2 and 3 threads and checks that every
// output is bit-identical to the one-thread result. Restores the thread count.
void same_bits_on_every_thread_count(
    const std::function<std::vector<std::vector<float>>()>& compute) {
  const int saved = ar1::kernels::num_threads();
  ar1::kernels::set_num_threads(1);
  const auto one = compute();
  for (int threads : {2, 3}) {
    ar1::kernels::set_num_threads(threads);
    const auto many = compute();
    // The blocks' single-threaded setting stays inside them.
    CHECK(ar1::kernels::num_threads() == threads);
    REQUIRE(many.size() == one.size());
    for (size_t i = 0; i < one.size(); ++i) {
      CAPTURE(threads);
      CAPTURE(i);
      CHECK(bit_identical(many[i], one[i]));
    }
  }
  ar1::kernels::set_num_threads(saved);
}

ConvDesc make(int64_t n, int64_t c_in, int64_t hw, int64_t c_out, int64_t k, int64_t stride,
              int64_t groups, bool channels_last) {
  ConvDesc d;
  d.n = n, d.c_in = c_in, d.h = hw, d.w = hw, d.c_out = c_out, d.kh = k, d.kw = k;
  d.stride = stride, d.pad = k / 2, d.groups = groups, d.channels_last = channels_last;
  return d;
}

std::string describe(const ConvDesc& d) {
  return "n=" + std::to_string(d.n) + " " + std::to_string(d.c_in) + "->" +
         std::to_string(d.c_out) + " " + std::to_string(d.h) + "x" + std::to_string(d.w) +
         " k=" + std::to_string(d.kh) + " s=" + std::to_string(d.stride) +
         " g=" + std::to_string(d.groups) + (d.channels_last ? " nhwc" : " nchw");
}

// The three convolution ops of one shape.
std::vector<std::vector<float>> conv_outputs(const ConvDesc& d) {
  const int64_t xs = d.n * d.c_in * d.h * d.w, ws = d.c_out * (d.c_in / d.groups) * d.kh * d.kw,
                ys = d.n * d.c_out * d.oh() * d.ow();
  const auto x = random_values(xs, 1), w = random_values(ws, 2), dy = random_values(ys, 3);
  std::vector<float> y(ys), dx(xs), dw(ws);
  cpu::conv2d_forward(y.data(), x.data(), w.data(), d);
  cpu::conv2d_backward_data(dx.data(), dy.data(), w.data(), d);
  cpu::conv2d_backward_weights(dw.data(), dy.data(), x.data(), d);
  return {y, dx, dw};
}

}  // namespace

TEST_CASE("convolutions give the same bits on 1, 2 and 3 threads") {
  // MobileNetV1's kinds of layer at the sizes AR1 meets: a stem 3x3/2, depthwise 3x3 with
  // stride 1 and 2, pointwise on many pixel rows (oneDNN's convolution) and on few (sgemms cut
  // by rows, or by columns where the rows are fewer than the channels), batches that a block
  // size does not divide, both layouts.
  for (const bool cl : {true, false}) {
    for (const ConvDesc& d :
         {make(20, 3, 32, 16, 3, 2, 1, cl), make(20, 32, 16, 32, 3, 1, 32, cl),
          make(13, 64, 16, 64, 3, 2, 64, cl), make(20, 32, 16, 64, 1, 1, 1, cl),
          make(37, 128, 4, 128, 1, 1, 1, cl), make(130, 256, 2, 256, 1, 1, 1, cl),
          make(3, 48, 8, 40, 1, 1, 1, cl), make(3, 64, 2, 96, 1, 1, 1, cl),
          make(3, 96, 2, 64, 1, 1, 1, cl)}) {
      for (const auto set : ar1::testing::cpu_kernel_sets()) {
        const ar1::testing::ScopedCpuKernels use(set);
        INFO(describe(d) << " on " << ar1::kernels::cpu_kernels_name(set));
        same_bits_on_every_thread_count([&] { return conv_outputs(d); });
      }
    }
  }
}

TEST_CASE("matrix products give the same bits on 1, 2 and 3 threads") {
  // The linear layer's forward (x w^T), its weight gradient (dy^T x) and its input gradient
  // (dy w), at AR1's head sizes and at one large enough to cut into several blocks.
  for (const MatmulDesc& d : {MatmulDesc{130, 10, 256, false, true},
                              MatmulDesc{10, 256, 130, true, false},
                              MatmulDesc{130, 256, 10, false, false},
                              MatmulDesc{512, 300, 700, false, true},
                              MatmulDesc{300, 700, 512, true, false},
                              MatmulDesc{64, 96, 80, true, true}}) {
    INFO("m=" << d.m << " n=" << d.n << " k=" << d.k << " ta=" << d.trans_a
              << " tb=" << d.trans_b);
    same_bits_on_every_thread_count([&] {
      const auto a = random_values(d.m * d.k, 4), b = random_values(d.k * d.n, 5);
      std::vector<float> c(d.m * d.n);
      cpu::matmul(c.data(), a.data(), b.data(), d);
      return std::vector<std::vector<float>>{c};
    });
  }
}
