// conv2d_forward_scaled (the portable kernels reading the weights times a per-output-channel
// scale, the folded evaluation BatchReNorm, without writing folded weights) against folding
// first and running conv2d_forward: the same bits for each algorithm, with the bias and ReLU,
// on every vector instruction set; declined (nothing written) where no kernel reads w scaled.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu_kernels.h"
#include "tests/support/cpu_kernel_sets.h"
#include "tests/support/each_vector_isa.h"
#include "tests/support/random_floats.h"

using namespace ar1;

using ar1::testing::random_floats;

namespace {

kernels::ConvDesc conv(int64_t n, int64_t ci, int64_t co, int64_t hw, int64_t k, int64_t stride,
                       int64_t groups) {
  kernels::ConvDesc d;
  d.n = n, d.c_in = ci, d.c_out = co, d.h = d.w = hw, d.kh = d.kw = k;
  d.stride = stride, d.pad = k / 2, d.groups = groups;
  d.channels_last = true;
  return d;
}

int64_t x_count(const kernels::ConvDesc& d) { return d.n * d.h * d.w * d.c_in; }
int64_t y_count(const kernels::ConvDesc& d) { return d.n * d.oh() * d.ow() * d.c_out; }
int64_t w_count(const kernels::ConvDesc& d) {
  return d.c_out * (d.c_in / d.groups) * d.kh * d.kw;
}

}  // namespace

TEST_CASE("conv2d forward scaled equals folding the scale into the weights first") {
  const testing::ScopedCpuKernels portable(kernels::CpuKernels::portable);
  // Pointwise (one block of columns, and more columns than a vector), depthwise (both
  // strides), dense 3x3/2 on 3 channels (the stem) and a grouped one.
  for (kernels::ConvDesc d : {conv(2, 24, 40, 9, 1, 1, 1), conv(3, 16, 5, 6, 1, 1, 1),
                              conv(2, 48, 48, 11, 3, 1, 48), conv(2, 32, 32, 12, 3, 2, 32),
                              conv(2, 3, 32, 17, 3, 2, 1), conv(2, 8, 12, 7, 3, 1, 4)}) {
    CAPTURE(d.kh);
    CAPTURE(d.groups);
    CAPTURE(d.c_out);
    d.bias = d.relu = true;
    const std::vector<float> x = random_floats(x_count(d), 1), w = random_floats(w_count(d), 2);
    const std::vector<float> scale = random_floats(d.c_out, 3), bias = random_floats(d.c_out, 4);
    std::vector<float> folded(w.size());
    const int64_t per_out = w_count(d) / d.c_out;
    for (int64_t i = 0; i < w_count(d); ++i) folded[i] = w[i] * scale[i / per_out];
    testing::for_each_vector_isa([&] {
      std::vector<float> want(y_count(d)), got(y_count(d), -7.f);
      kernels::conv2d_forward(Device::cpu(), want.data(), x.data(), folded.data(), d,
                              bias.data());
      REQUIRE(kernels::conv2d_forward_scaled(Device::cpu(), got.data(), x.data(), w.data(),
                                             scale.data(), d, bias.data()));
      CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
    });
  }
}

TEST_CASE("conv2d forward scaled declines where no kernel reads the weights scaled") {
  kernels::ConvDesc nchw = conv(2, 8, 8, 6, 1, 1, 1);
  nchw.channels_last = false;
  kernels::ConvDesc bf16 = conv(2, 8, 8, 6, 1, 1, 1);
  bf16.bf16 = true;
  std::vector<float> x(2 * 8 * 36, 1.f), w(64, 1.f), scale(8, 2.f), y(2 * 8 * 36, -7.f);
  for (const kernels::CpuKernels set : testing::cpu_kernel_sets()) {
    const testing::ScopedCpuKernels chosen(set);
    for (const kernels::ConvDesc& d : {nchw, bf16}) {
      CHECK_FALSE(kernels::conv2d_forward_scaled(Device::cpu(), y.data(), x.data(), w.data(),
                                                 scale.data(), d));
      CHECK(y[0] == -7.f);
    }
  }
  if (kernels::built_with_onednn()) {
    const testing::ScopedCpuKernels onednn(kernels::CpuKernels::onednn);
    CHECK_FALSE(kernels::conv2d_forward_scaled(Device::cpu(), y.data(), x.data(), w.data(),
                                               scale.data(), conv(2, 8, 8, 6, 1, 1, 1)));
  }
}
