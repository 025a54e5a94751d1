// What the CPU computes again from x and the affine map the training forward saved (what
// nn::batch_renorm does on the CPU) has the same bits as what it would read from y, in both
// layouts: the BatchReNorm backward's ReLU mask, and y itself (for a convolution that kept the
// BatchReNorm node instead of y).
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "core/tensor.h"
#include "kernels/batch_renorm.h"
#include "tests/support/random_floats.h"

using ar1::testing::random_floats;

namespace {

using ar1::kernels::BatchReNormDesc;
using ar1::kernels::BatchReNormSaved;

bool same(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("batch renorm: the ReLU mask and y recomputed from the saved affine equal y's") {
  for (const bool channels_last : {false, true}) {
    CAPTURE(channels_last);
    BatchReNormDesc d;
    d.n = 3, d.c = 21, d.hw = 37, d.relu = true, d.training = true;
    d.r_max = 1.5f, d.d_max = 0.5f, d.momentum = 0.1f, d.channels_last = channels_last;
    const int64_t count = d.n * d.c * d.hw;
    std::vector<float> x = random_floats(count, 1), dy = random_floats(count, 2), y(count);
    std::vector<float> gamma = random_floats(d.c, 3), beta = random_floats(d.c, 4);
    std::vector<float> rmean(d.c, 0.1f), rstd(d.c, 1.2f);
    std::vector<float> mean(d.c), std_(d.c), inv_std(d.c), r(d.c), dd(d.c), affine(2 * d.c);
    const BatchReNormSaved saved{mean.data(), std_.data(), inv_std.data(), r.data(), dd.data(),
                                 affine.data()};
    ar1::kernels::cpu::batch_renorm_train_forward(y.data(), saved, rmean.data(), rstd.data(),
                                                  x.data(), gamma.data(), beta.data(), d);
    std::vector<float> dx_y(count), dg_y(d.c), db_y(d.c), dx_a(count), dg_a(d.c), db_a(d.c);
    ar1::kernels::cpu::batch_renorm_backward(dx_y.data(), dg_y.data(), db_y.data(), dy.data(),
                                             x.data(), y.data(), gamma.data(), mean.data(),
                                             inv_std.data(), r.data(), dd.data(), d);
    ar1::kernels::cpu::batch_renorm_backward(dx_a.data(), dg_a.data(), db_a.data(), dy.data(),
                                             x.data(), nullptr, gamma.data(), mean.data(),
                                             inv_std.data(), r.data(), dd.data(), d,
                                             affine.data());
    // About half the outputs are cut by the ReLU, so the mask matters.
    int64_t cut = 0;
    for (float v : y) cut += v == 0.f;
    CHECK(cut > count / 4);
    CHECK(same(dx_y, dx_a));
    CHECK(same(dg_y, dg_a));
    CHECK(same(db_y, db_a));
    std::vector<float> y_again(count, -1.f);
    ar1::kernels::batch_renorm_apply_saved(ar1::Device::cpu(), y_again.data(), x.data(),
                                           affine.data(), d);
    CHECK(same(y, y_again));
  }
}
