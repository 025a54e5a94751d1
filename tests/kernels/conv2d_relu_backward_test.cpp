// conv2d_relu_backward (the portable pointwise kernel that masks the gradient by the ReLU and
// runs backward-data, backward-weights and the bias sum in one pass over it) against the
// unfused steps (the BatchReNorm evaluation backward writing gm, then the two convolution
// backwards): the same bits for dx, dw and db, on every vector instruction set and thread
// count, where it fuses; where it does not, it says so and writes nothing.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/rng.h"
#include "kernels/batch_renorm.h"
#include "kernels/conv2d.h"
#include "kernels/cpu_kernels.h"
#include "kernels/threading.h"
#include "tests/support/cpu_kernel_sets.h"
#include "tests/support/each_vector_isa.h"

using namespace ar1;

namespace {

std::vector<float> values(int64_t count, uint64_t seed) {
  Generator gen(seed);
  const Tensor t = normal({count}, gen);
  return {t.data<float>(), t.data<float>() + count};
}

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

struct Grads {
  std::vector<float> dx, dw, db;
};

struct Inputs {
  std::vector<float> dy, y, x, w;
  explicit Inputs(const kernels::ConvDesc& d) {
    const int64_t rows = d.n * d.h * d.w;
    dy = values(rows * d.c_out, 1);
    y = values(rows * d.c_out, 2);  // about half cut by the ReLU
    for (size_t i = 0; i < y.size(); i += 7) y[i] = 0.f;  // the kink itself is cut too
    x = values(rows * d.c_in, 3);
    w = values(d.c_out * d.c_in, 4);
  }
};

// The unfused steps, as nn::conv2d_batch_renorm_eval's backward runs them without the kernel.
Grads unfused(const Inputs& in, const kernels::ConvDesc& d) {
  const int64_t rows = d.n * d.h * d.w, co = d.c_out;
  kernels::BatchReNormDesc bd;
  bd.n = d.n, bd.c = co, bd.hw = d.h * d.w;
  bd.training = false, bd.relu = true, bd.channels_last = true;
  const std::vector<float> ones(co, 1.f), zeros(co, 0.f);
  std::vector<float> gm(rows * co), unused(co);
  Grads g{std::vector<float>(rows * d.c_in), std::vector<float>(co * d.c_in),
          std::vector<float>(co)};
  kernels::cpu::batch_renorm_backward(gm.data(), unused.data(), g.db.data(), in.dy.data(),
                                      in.y.data(), in.y.data(), ones.data(), zeros.data(),
                                      ones.data(), ones.data(), zeros.data(), bd);
  kernels::cpu::portable::conv2d_backward_data(g.dx.data(), gm.data(), in.w.data(), d);
  kernels::cpu::portable::conv2d_backward_weights(g.dw.data(), gm.data(), in.x.data(), d);
  return g;
}

Grads fused(const Inputs& in, const kernels::ConvDesc& d, bool want_dx, bool want_dw) {
  const int64_t rows = d.n * d.h * d.w;
  Grads g{std::vector<float>(rows * d.c_in, -7.f), std::vector<float>(d.c_out * d.c_in, -7.f),
          std::vector<float>(d.c_out, -7.f)};
  const bool ran = kernels::conv2d_relu_backward(
      Device::cpu(), want_dx ? g.dx.data() : nullptr, want_dw ? g.dw.data() : nullptr,
      g.db.data(), in.dy.data(), in.y.data(), in.x.data(), in.w.data(), d);
  REQUIRE(ran);
  return g;
}

}  // namespace

TEST_CASE("conv2d relu backward: fused pointwise kernel has the bits of the unfused steps") {
  const testing::ScopedCpuKernels portable(kernels::CpuKernels::portable);
  const int saved_threads = kernels::num_threads();
  // 64 channels: BatchReNorm blocks of 256 rows inside the 2048-row chunks; 48: blocks of 341
  // rows, some straddling two chunks; 24 -> 40 over 4551 rows: a last, short chunk.
  for (const kernels::ConvDesc& d :
       {pointwise(4, 32, 64, 32, 32), pointwise(3, 40, 48, 37, 41), pointwise(3, 24, 40, 37, 41)}) {
    CAPTURE(d.c_out);
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
  declined.back().kh = declined.back().kw = 3, declined.back().pad = 1;  // not pointwise
  for (const kernels::CpuKernels set : testing::cpu_kernel_sets()) {
    const testing::ScopedCpuKernels chosen(set);
    for (const kernels::ConvDesc& d : declined) {
      const int64_t rows = d.n * d.h * d.w;
      std::vector<float> dx(rows * d.c_in, -7.f), dw(d.c_out * d.c_in * d.kh * d.kw, -7.f);
      std::vector<float> db(d.c_out, -7.f), dy(rows * d.c_out, 1.f), y(rows * d.c_out, 1.f);
      std::vector<float> x(rows * d.c_in, 1.f), w(dw.size(), 1.f);
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
