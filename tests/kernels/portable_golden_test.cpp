// The portable CPU kernels give pinned bits, without any dataset: the SHA-256 of the outputs of
// every convolution algorithm (pointwise, depthwise, im2col; forward, backward-data,
// backward-weights; both layouts) and of the matrix products, on inputs from the seeded RNG.
// Every machine CI runs on checks each vector instruction set it runs (AVX-512, AVX2, NEON, plain
// C++) against these. A change here is a change of results: say why in the commit
// (docs/reproducibility.md; the whole-run golden is tests/cli/golden_test.cpp).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/io/sha256.h"
#include "core/rng.h"
#include "kernels/conv2d.h"
#include "kernels/matmul.h"
#include "kernels/threading.h"
#include "tests/support/each_vector_isa.h"

namespace {

using ar1::kernels::ConvDesc;
using ar1::kernels::MatmulDesc;
namespace cpu = ar1::kernels::cpu;

std::vector<float> random_values(int64_t count, uint64_t seed) {
  ar1::Generator gen(seed);
  const ar1::Tensor t = ar1::normal({count}, gen);
  return std::vector<float>(t.data<float>(), t.data<float>() + count);
}

void hash(ar1::Sha256& h, const std::vector<float>& v) {
  h.update(v.data(), v.size() * sizeof(float));
}

ConvDesc make(int64_t n, int64_t c_in, int64_t hw, int64_t c_out, int64_t k, int64_t stride,
              int64_t groups, bool channels_last) {
  ConvDesc d;
  d.n = n, d.c_in = c_in, d.h = hw, d.w = hw, d.c_out = c_out, d.kh = k, d.kw = k;
  d.stride = stride, d.pad = k / 2, d.groups = groups, d.channels_last = channels_last;
  return d;
}

// The three ops of each shape, both layouts, into one digest.
std::string conv_digest(const std::vector<ConvDesc>& shapes) {
  ar1::Sha256 h;
  for (const ConvDesc& d : shapes) {
    const int64_t xs = d.n * d.c_in * d.h * d.w, ws = d.c_out * (d.c_in / d.groups) * d.kh * d.kw,
                  ys = d.n * d.c_out * d.oh() * d.ow();
    const auto x = random_values(xs, 1), w = random_values(ws, 2), dy = random_values(ys, 3);
    std::vector<float> y(ys), dx(xs), dw(ws);
    cpu::portable::conv2d_forward(y.data(), x.data(), w.data(), d, nullptr);
    cpu::portable::conv2d_backward_data(dx.data(), dy.data(), w.data(), d);
    cpu::portable::conv2d_backward_weights(dw.data(), dy.data(), x.data(), d);
    hash(h, y), hash(h, dx), hash(h, dw);
  }
  return h.hex_digest();
}

std::vector<ConvDesc> both_layouts(std::vector<ConvDesc> shapes) {
  const size_t n = shapes.size();
  for (size_t i = 0; i < n; ++i) {
    shapes.push_back(shapes[i]);
    shapes.back().channels_last = !shapes[i].channels_last;
  }
  return shapes;
}

}  // namespace

TEST_CASE("portable convolutions give the pinned bits") {
  // MobileNetV1's kinds of layer: the stem 3x3/2 (im2col), depthwise 3x3 stride 1 and 2,
  // pointwise on many and on few pixel rows (one or several blocks of the backward-weights
  // sum), sizes that the micro-kernels' tiles do not divide.
  const auto shapes = both_layouts({make(5, 3, 17, 8, 3, 2, 1, true),
                                    make(3, 24, 9, 24, 3, 1, 24, true),
                                    make(3, 40, 9, 40, 3, 2, 40, true),
                                    make(70, 19, 6, 37, 1, 1, 1, true),
                                    make(2, 33, 3, 70, 1, 1, 1, true)});
  ar1::testing::for_each_vector_isa([&] {
    const std::string digest = conv_digest(shapes);
    for (int threads : {1, 3}) {
      CAPTURE(threads);
      ar1::kernels::set_num_threads(threads);
      CHECK(conv_digest(shapes) == digest);
    }
    ar1::kernels::set_num_threads(0);
    CHECK(digest == "23f37f522ec46f3790b911c84e8a5eea10b1502eddf127e07cecc3512c222fdc");
  });
}

TEST_CASE("portable matrix products give the pinned bits") {
  ar1::testing::for_each_vector_isa([] {
    ar1::Sha256 h;
    for (const MatmulDesc& d : {MatmulDesc{130, 10, 256, false, true},
                                MatmulDesc{10, 256, 130, true, false},
                                MatmulDesc{130, 256, 10, false, false},
                                MatmulDesc{37, 53, 300, true, true}}) {
      const auto a = random_values(d.m * d.k, 4), b = random_values(d.k * d.n, 5);
      std::vector<float> c(d.m * d.n);
      cpu::matmul(c.data(), a.data(), b.data(), d);
      hash(h, c);
    }
    CHECK(h.hex_digest() == "bb100b48163fde8064c30ea9723dc8bce86cbfe8ab61373cbb8fe0830a698075");
  });
}
