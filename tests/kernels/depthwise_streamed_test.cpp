// The portable channels-last depthwise convolution stores outputs of more than 32 MiB past the
// caches, from a row buffer, adding the folded bias and ReLU on the way. Each image's rows are
// independent, so a large batch (streamed) must give the bits of its images run one at a time
// (stored plainly), on every vector instruction set, NaN and -0 included.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/conv2d.h"
#include "tests/support/each_vector_isa.h"
#include "tests/support/random_floats.h"

using namespace ar1;

using ar1::testing::random_floats;

namespace {

kernels::ConvDesc depthwise(int64_t n, int64_t c, int64_t hw) {
  kernels::ConvDesc d;
  d.n = n, d.c_in = d.c_out = d.groups = c, d.h = d.w = hw;
  d.kh = d.kw = 3, d.stride = 1, d.pad = 1;
  d.channels_last = true;
  return d;
}

}  // namespace

TEST_CASE("depthwise convolution streamed outputs equal those stored image by image") {
  // 65 images of 64 x 64 x 32: 34 MiB of outputs, above the streaming threshold; one image is
  // well below it.
  const kernels::ConvDesc d = depthwise(65, 32, 64);
  kernels::ConvDesc one = d;
  one.n = 1;
  const int64_t image = d.h * d.w * d.c_in;
  std::vector<float> x = random_floats(d.n * image, 1), dy = random_floats(d.n * image, 2);
  const std::vector<float> w = random_floats(d.c_in * 9, 3);
  std::vector<float> bias = random_floats(d.c_in, 4);
  x[12345] = std::numeric_limits<float>::quiet_NaN();
  bias[3] = -0.f;
  for (const bool folded : {false, true}) {
    CAPTURE(folded);
    kernels::ConvDesc all = d, single = one;
    all.bias = single.bias = all.relu = single.relu = folded;
    const float* b = folded ? bias.data() : nullptr;
    testing::for_each_vector_isa([&] {
      // Tensors: 64-byte aligned, as streaming needs (a std::vector's large block is not).
      Tensor y = Tensor::empty({d.n * image}), y_one = Tensor::empty({d.n * image});
      Tensor dx = Tensor::empty({d.n * image}), dx_one = Tensor::empty({d.n * image});
      REQUIRE(reinterpret_cast<uintptr_t>(y.data<float>()) % 64 == 0);
      REQUIRE(reinterpret_cast<uintptr_t>(dx.data<float>()) % 64 == 0);
      kernels::cpu::portable::conv2d_forward(y.data<float>(), x.data(), w.data(), all, b);
      kernels::cpu::portable::conv2d_backward_data(dx.data<float>(), dy.data(), w.data(), d);
      for (int64_t i = 0; i < d.n; ++i) {
        kernels::cpu::portable::conv2d_forward(y_one.data<float>() + i * image,
                                               x.data() + i * image, w.data(), single, b);
        kernels::cpu::portable::conv2d_backward_data(dx_one.data<float>() + i * image,
                                                     dy.data() + i * image, w.data(), one);
      }
      const size_t bytes = static_cast<size_t>(d.n * image) * sizeof(float);
      CHECK(std::memcmp(y.data<float>(), y_one.data<float>(), bytes) == 0);
      CHECK(std::memcmp(dx.data<float>(), dx_one.data<float>(), bytes) == 0);
    });
  }
}
