// conv2d_relu_backward (the portable pointwise and depthwise kernels that mask the gradient by
// the ReLU and run backward-data, backward-weights and the bias sum in one pass over it)
// against the unfused steps (the BatchReNorm evaluation backward writing gm, then the two
// convolution backwards): the same bits for dx, dw and db, on every vector instruction set and
// thread count, where it fuses; where it does not, it says so and writes nothing.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/batch_renorm.h"
#include "kernels/conv2d.h"
#include "kernels/cpu_kernels.h"
#include "kernels/threading.h"
#include "tests/support/cpu_kernel_sets.h"
#include "tests/support/each_vector_isa.h"
#include "tests/support/random_floats.h"

using namespace ar1;

using ar1::testing::random_floats;

namespace {

bool same(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

kernels::ConvDesc pointwise(int64_t n, int64_t ci, int64_t co, int64_t h, int64_t w) {
  kernels::ConvDesc d;
  d.n = n, d.c_in = ci, d.c_out = co, d.h = h, d.w = w;
  d.kh = d.kw = 1, d.stride = 1, d.pad = 0, d.groups = 1;
  d.channels_last = true;
  return d;
}

kernels::ConvDesc depthwise(int64_t n, int64_t c, int64_t hw, int64_t stride) {
  kernels::ConvDesc d;
  d.n = n, d.c_in = d.c_out = d.groups = c, d.h = d.w = hw;
  d.kh = d.kw = 3, d.stride = stride, d.pad = 1;
  d.channels_last = true;
  return d;
}

int64_t x_count(const kernels::ConvDesc& d) { return d.n * d.h * d.w * d.c_in; }
int64_t y_count(const kernels::ConvDesc& d) { return d.n * d.oh() * d.ow() * d.c_out; }
int64_t w_count(const kernels::ConvDesc& d) {
  return d.c_out * (d.c_in / d.groups) * d.kh * d.kw;
}

struct Grads {
  std::vector<float> dx, dw, db;
};

struct Inputs {
  std::vector<float> dy, y, x, w;
  explicit Inputs(const kernels::ConvDesc& d) {
    dy = random_floats(y_count(d), 1);
    y = random_floats(y_count(d), 2);  // about half cut by the ReLU
    for (size_t i = 0; i < y.size(); i += 7) y[i] = 0.f;  // the kink itself is cut too
    x = random_floats(x_count(d), 3);
    w = random_floats(w_count(d), 4);
  }
};

// The unfused steps, as nn::conv2d_batch_renorm_eval's backward runs them without the kernel.
Grads unfused(const Inputs& in, const kernels::ConvDesc& d) {
  const int64_t co = d.c_out;
  kernels::BatchReNormDesc bd;
  bd.n = d.n, bd.c = co, bd.hw = d.oh() * d.ow();
  bd.training = false, bd.relu = true, bd.channels_last = true;
  const std::vector<float> ones(co, 1.f), zeros(co, 0.f);
  std::vector<float> gm(y_count(d)), unused(co);
  Grads g{std::vector<float>(x_count(d)), std::vector<float>(w_count(d)),
          std::vector<float>(co)};
  kernels::cpu::batch_renorm_backward(gm.data(), unused.data(), g.db.data(), in.dy.data(),
                                      in.y.data(), in.y.data(), ones.data(), zeros.data(),
                                      ones.data(), ones.data(), zeros.data(), bd);
  kernels::cpu::portable::conv2d_backward_data(g.dx.data(), gm.data(), in.w.data(), d);
  kernels::cpu::portable::conv2d_backward_weights(g.dw.data(), gm.data(), in.x.data(), d);
  return g;
}

Grads fused(const Inputs& in, const kernels::ConvDesc& d, bool want_dx, bool want_dw) {
  Grads g{std::vector<float>(x_count(d), -7.f), std::vector<float>(w_count(d), -7.f),
          std::vector<float>(d.c_out, -7.f)};
  const bool ran = kernels::conv2d_relu_backward(
      Device::cpu(), want_dx ? g.dx.data() : nullptr, want_dw ? g.dw.data() : nullptr,
      g.db.data(), in.dy.data(), in.y.data(), in.x.data(), in.w.data(), d);
  REQUIRE(ran);
  return g;
}

}  // namespace

TEST_CASE("conv2d relu backward: fused kernels have the bits of the unfused steps") {
  const testing::ScopedCpuKernels portable(kernels::CpuKernels::portable);
  const int saved_threads = kernels::num_threads();
  // Pointwise: 64 channels, BatchReNorm blocks of 256 rows inside the 2048-row chunks; 48,
  // blocks of 341 rows, some straddling two chunks; 24 -> 40 over 4551 rows, a last short chunk.
  // Depthwise: chunks of whole images (32 of 8 x 8 outputs, 26 of 9 x 9), blocks of 512 rows
  // inside them, of 341 or 409 rows across them; both strides.
  for (const kernels::ConvDesc& d :
       {pointwise(4, 32, 64, 32, 32), pointwise(3, 40, 48, 37, 41), pointwise(3, 24, 40, 37, 41),
        depthwise(70, 32, 8, 1), depthwise(70, 48, 16, 2), depthwise(60, 40, 9, 1),
        depthwise(60, 40, 17, 2)}) {
    CAPTURE(d.c_out);
    CAPTURE(d.groups);
    CAPTURE(d.stride);
    const Inputs in(d);
    const Grads want = unfused(in, d);
    testing::for_each_vector_isa([&] {
      for (const int threads : {1, 3}) {
        CAPTURE(threads);
        kernels::set_num_threads(threads);
        const Grads all = fused(in, d, true, true);
        CHECK(same(all.dx, want.dx));
        CHECK(same(all.dw, want.dw));
        CHECK(same(all.db, want.db));
        const Grads data_only = fused(in, d, true, false);
        CHECK(same(data_only.dx, want.dx));
        CHECK(same(data_only.db, want.db));
        const Grads weights_only = fused(in, d, false, true);
        CHECK(same(weights_only.dw, want.dw));
        CHECK(same(weights_only.db, want.db));
      }
    });
  }
  kernels::set_num_threads(saved_threads);
}

TEST_CASE("conv2d relu backward: declines where no fused kernel serves, writing nothing") {
  std::vector<kernels::ConvDesc> declined{pointwise(2, 8, 16, 32, 32)};  // 2048 rows: one sum
  declined.push_back(pointwise(4, 32, 64, 32, 32));
  declined.back().channels_last = false;  // NCHW
  declined.push_back(pointwise(4, 32, 64, 32, 32));
  declined.back().bf16 = true;
  declined.push_back(pointwise(4, 32, 32, 32, 32));
  declined.back().kh = declined.back().kw = 3, declined.back().pad = 1;  // dense 3 x 3
  declined.push_back(depthwise(4, 32, 16, 1));
  declined.back().kh = declined.back().kw = 5, declined.back().pad = 2;  // depthwise 5 x 5
  for (const kernels::CpuKernels set : testing::cpu_kernel_sets()) {
    const testing::ScopedCpuKernels chosen(set);
    for (const kernels::ConvDesc& d : declined) {
      std::vector<float> dx(x_count(d), -7.f), dw(w_count(d), -7.f), db(d.c_out, -7.f);
      std::vector<float> dy(y_count(d), 1.f), y(y_count(d), 1.f), x(x_count(d), 1.f);
      std::vector<float> w(dw.size(), 1.f);
      CHECK_FALSE(kernels::conv2d_relu_backward(Device::cpu(), dx.data(), dw.data(), db.data(),
                                                dy.data(), y.data(), x.data(), w.data(), d));
      CHECK(dx[0] == -7.f);
      CHECK(dw[0] == -7.f);
      CHECK(db[0] == -7.f);
    }
  }
  // oneDNN's set never fuses (its steps are oneDNN's own kernels).
  if (kernels::built_with_onednn()) {
    const testing::ScopedCpuKernels onednn(kernels::CpuKernels::onednn);
    const kernels::ConvDesc d = pointwise(4, 32, 64, 32, 32);
    const Inputs in(d);
    std::vector<float> dx(in.x.size()), dw(in.w.size()), db(d.c_out);
    CHECK_FALSE(kernels::conv2d_relu_backward(Device::cpu(), dx.data(), dw.data(), db.data(),
                                              in.dy.data(), in.y.data(), in.x.data(),
                                              in.w.data(), d));
  }
}
