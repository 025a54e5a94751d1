// Every kernel op on the GPU against the CPU on the same inputs, forward and backward, at
// several shapes (odd sizes, depthwise stride 2, both layouts), with guard zones around every
// output (tests/cuda/op_harness.h states the tolerances).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/half.h"
#include "kernels/batch_renorm.h"
#include "kernels/conv2d.h"
#include "kernels/cross_entropy.h"
#include "kernels/cwr_star.h"
#include "kernels/dequantize.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/pooling.h"
#include "kernels/reduce.h"
#include "kernels/sgd.h"
#include "kernels/synaptic_intelligence.h"
#include "tests/cuda/op_harness.h"

using namespace ar1;
using namespace ar1::testing;
using kernels::ConvDesc;

namespace {

const Device kCpu = Device::cpu();

ConvDesc conv(int64_t n, int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t k,
              int64_t stride, int64_t groups) {
  ConvDesc d;
  d.n = n, d.c_in = c_in, d.h = h, d.w = w, d.c_out = c_out, d.kh = d.kw = k;
  d.stride = stride, d.pad = k / 2, d.groups = groups;
  return d;
}

void check_conv(const ConvDesc& d) {
  CAPTURE(d.c_in);
  CAPTURE(d.c_out);
  CAPTURE(d.h);
  CAPTURE(d.w);
  CAPTURE(d.kh);
  CAPTURE(d.stride);
  CAPTURE(d.groups);
  CAPTURE(d.channels_last);
  const int64_t in = d.n * d.c_in * d.h * d.w, out = d.n * d.c_out * d.oh() * d.ow();
  const int64_t wn = d.c_out * (d.c_in / d.groups) * d.kh * d.kw;
  const Input x(in, 1), w(wn, 2, 0.3f), dy(out, 3), bias(d.c_out, 4);

  Output y(out);
  kernels::conv2d_forward(kCpu, y.cpu(), x.cpu(), w.cpu(), d);
  kernels::conv2d_forward(kGpu, y.gpu(), x.gpu(), w.gpu(), d);
  y.check("conv2d forward", kReduction);

  ConvDesc fused = d;
  fused.bias = fused.relu = true;
  Output yf(out);
  kernels::conv2d_forward(kCpu, yf.cpu(), x.cpu(), w.cpu(), fused, bias.cpu());
  kernels::conv2d_forward(kGpu, yf.gpu(), x.gpu(), w.gpu(), fused, bias.gpu());
  yf.check("conv2d forward + bias + relu", kReduction);

  Output dx(in);
  kernels::conv2d_backward_data(kCpu, dx.cpu(), dy.cpu(), w.cpu(), d);
  kernels::conv2d_backward_data(kGpu, dx.gpu(), dy.gpu(), w.gpu(), d);
  dx.check("conv2d backward data", kReduction);

  Output dw(wn);
  kernels::conv2d_backward_weights(kCpu, dw.cpu(), dy.cpu(), x.cpu(), d);
  kernels::conv2d_backward_weights(kGpu, dw.gpu(), dy.gpu(), x.gpu(), d);
  dw.check("conv2d backward weights", kReduction);
}

kernels::BatchReNormDesc brn(int64_t n, int64_t c, int64_t hw, bool channels_last, bool relu) {
  kernels::BatchReNormDesc d;
  d.n = n, d.c = c, d.hw = hw, d.channels_last = channels_last, d.relu = relu;
  d.r_max = 1.5f, d.d_max = 0.5f, d.momentum = 0.1f, d.eps = 1e-3f;
  return d;
}

void check_batch_renorm(const kernels::BatchReNormDesc& d) {
  CAPTURE(d.channels_last);
  CAPTURE(d.relu);
  CAPTURE(d.hw);
  const int64_t total = d.n * d.c * d.hw;
  std::vector<float> xs = random_values(total, 5);
  for (float& v : xs) v = 2.f + 3.f * v;
  const Input x(xs), gamma(d.c, 6), beta(d.c, 7), dy(total, 8);
  std::vector<float> std0 = random_values(d.c, 9);
  for (float& v : std0) v = 1.f + std::abs(v);
  const std::vector<float> mean0 = random_values(d.c, 10);

  Output y(total), mean(d.c), sd(d.c), inv(d.c), r(d.c), dd(d.c);
  Output rm(d.c, mean0), rs(d.c, std0);
  kernels::batch_renorm_train_forward(kCpu, y.cpu(), {mean.cpu(), sd.cpu(), inv.cpu(), r.cpu(),
                                      dd.cpu()}, rm.cpu(), rs.cpu(), x.cpu(), gamma.cpu(),
                                      beta.cpu(), d);
  kernels::batch_renorm_train_forward(kGpu, y.gpu(), {mean.gpu(), sd.gpu(), inv.gpu(), r.gpu(),
                                      dd.gpu()}, rm.gpu(), rs.gpu(), x.gpu(), gamma.gpu(),
                                      beta.gpu(), d);
  y.check("batch_renorm train y", kReduction);
  for (auto [name, o] : {std::pair{"mean", &mean}, std::pair{"std", &sd},
                         std::pair{"inv_std", &inv}, std::pair{"r", &r}, std::pair{"d", &dd},
                         std::pair{"running_mean", &rm}, std::pair{"running_std", &rs}}) {
    o->check(std::string("batch_renorm train ") + name, kReduction);
  }

  Output ye(total);
  kernels::batch_renorm_eval_forward(kCpu, ye.cpu(), x.cpu(), gamma.cpu(), beta.cpu(),
                                     mean0.data(), std0.data(), d);
  const Input m0(mean0), s0(std0);
  kernels::batch_renorm_eval_forward(kGpu, ye.gpu(), x.gpu(), gamma.gpu(), beta.gpu(), m0.gpu(),
                                     s0.gpu(), d);
  ye.check("batch_renorm eval y", kElementwise * 10);

  // Backward from the CPU's saved statistics on both sides.
  const Input saved_mean(std::vector<float>(mean.cpu(), mean.cpu() + d.c));
  const Input saved_inv(std::vector<float>(inv.cpu(), inv.cpu() + d.c));
  const Input saved_r(std::vector<float>(r.cpu(), r.cpu() + d.c));
  const Input saved_d(std::vector<float>(dd.cpu(), dd.cpu() + d.c));
  const Input y_saved(std::vector<float>(y.cpu(), y.cpu() + total));
  for (const bool training : {true, false}) {
    CAPTURE(training);
    kernels::BatchReNormDesc bd = d;
    bd.training = training;
    Output dx(total), dg(d.c), db(d.c);
    kernels::batch_renorm_backward(kCpu, dx.cpu(), dg.cpu(), db.cpu(), dy.cpu(), x.cpu(),
                                   y_saved.cpu(), gamma.cpu(), saved_mean.cpu(), saved_inv.cpu(),
                                   saved_r.cpu(), saved_d.cpu(), bd);
    kernels::batch_renorm_backward(kGpu, dx.gpu(), dg.gpu(), db.gpu(), dy.gpu(), x.gpu(),
                                   y_saved.gpu(), gamma.gpu(), saved_mean.gpu(), saved_inv.gpu(),
                                   saved_r.gpu(), saved_d.gpu(), bd);
    dx.check("batch_renorm backward dx", kReduction);
    dg.check("batch_renorm backward dgamma", kReduction);
    db.check("batch_renorm backward dbeta", kReduction);
  }
}

}  // namespace

TEST_CASE("convolutions dense 3x3 stride 2, pointwise and depthwise match the cpu") {
  require_gpu();
  for (bool channels_last : {false, true}) {
    for (ConvDesc d : {conv(2, 3, 17, 15, 8, 3, 2, 1),     // the stem: dense 3x3 stride 2
                       conv(2, 8, 9, 7, 16, 1, 1, 1),      // pointwise
                       conv(2, 8, 9, 9, 8, 3, 1, 8),       // depthwise stride 1, odd size
                       conv(2, 8, 10, 11, 8, 3, 2, 8),     // depthwise stride 2, odd width
                       conv(1, 4, 9, 9, 4, 5, 2, 4),       // depthwise 5x5
                       conv(2, 6, 8, 8, 12, 3, 1, 2)}) {   // grouped: cuDNN
      d.channels_last = channels_last;
      check_conv(d);
    }
  }
}

TEST_CASE("convolutions at mobilenet's batch and sizes match the cpu") {
  require_gpu();
  check_conv(conv(32, 3, 64, 64, 8, 3, 2, 1));
  check_conv(conv(32, 32, 16, 16, 32, 3, 1, 32));
  check_conv(conv(32, 32, 16, 16, 64, 1, 1, 1));
  check_conv(conv(32, 64, 16, 16, 64, 3, 2, 64));
  check_conv(conv(8, 4, 64, 64, 4, 3, 1, 4));  // depthwise weight gradient over several chunks
}

TEST_CASE("binary ops with every broadcast, relu, fill and scale match the cpu") {
  require_gpu();
  const int64_t outer = 3, channels = 5, inner = 7, n = outer * channels * inner;
  const Input a(n, 11), b_full(n, 12), b_channel(channels, 13), b_scalar(1, 14);
  for (const kernels::BinaryOp op :
       {kernels::BinaryOp::add, kernels::BinaryOp::sub, kernels::BinaryOp::mul}) {
    for (const kernels::Broadcast bc : {kernels::Broadcast::none, kernels::Broadcast::per_channel,
                                        kernels::Broadcast::scalar}) {
      CAPTURE(static_cast<int>(op));
      CAPTURE(static_cast<int>(bc));
      kernels::BinaryDesc d{outer, channels, inner, bc, op};
      const Input& b = bc == kernels::Broadcast::none      ? b_full
                       : bc == kernels::Broadcast::scalar ? b_scalar
                                                          : b_channel;
      Output y(n);
      kernels::binary_forward(kCpu, y.cpu(), a.cpu(), b.cpu(), d);
      kernels::binary_forward(kGpu, y.gpu(), a.gpu(), b.gpu(), d);
      y.check("binary", kExact);
    }
  }
  Output r(n), dr(n), f(n), s(n);
  kernels::relu_forward(kCpu, r.cpu(), a.cpu(), n);
  kernels::relu_forward(kGpu, r.gpu(), a.gpu(), n);
  r.check("relu", kExact);
  const Input y_relu(std::vector<float>(r.cpu(), r.cpu() + n));
  kernels::relu_backward(kCpu, dr.cpu(), b_full.cpu(), y_relu.cpu(), n);
  kernels::relu_backward(kGpu, dr.gpu(), b_full.gpu(), y_relu.gpu(), n);
  dr.check("relu backward", kExact);
  kernels::fill(kCpu, f.cpu(), 2.5f, n);
  kernels::fill(kGpu, f.gpu(), 2.5f, n);
  f.check("fill", kExact);
  kernels::scale(kCpu, s.cpu(), a.cpu(), -0.75f, n);
  kernels::scale(kGpu, s.gpu(), a.gpu(), -0.75f, n);
  s.check("scale", kExact);
}

TEST_CASE("sums, channel sums, pooling and matrix products match the cpu") {
  require_gpu();
  for (const int64_t n : {int64_t{1}, int64_t{1000}, int64_t{1} << 20}) {
    CAPTURE(n);
    const Input x(n, 15);
    Output y(1);
    kernels::sum_all(kCpu, y.cpu(), x.cpu(), n);
    kernels::sum_all(kGpu, y.gpu(), x.gpu(), n);
    y.check("sum", kReduction);
  }
  const kernels::ChannelSumDesc cs{7, 9, 33};
  const Input xc(cs.outer * cs.channels * cs.inner, 16);
  Output yc(cs.channels);
  kernels::channel_sum(kCpu, yc.cpu(), xc.cpu(), cs);
  kernels::channel_sum(kGpu, yc.gpu(), xc.gpu(), cs);
  yc.check("channel sum", kReduction);

  for (const kernels::AvgPoolDesc d :
       {kernels::AvgPoolDesc{4, 16, 4, 4, 4, 4, 1}, kernels::AvgPoolDesc{2, 3, 7, 5, 2, 2, 2},
        kernels::AvgPoolDesc{1, 2, 6, 6, 3, 3, 1}}) {  // overlapping windows
    const int64_t in = d.n * d.c * d.h * d.w, out = d.n * d.c * d.oh() * d.ow();
    const Input x(in, 17), dy(out, 18);
    Output y(out), dx(in);
    kernels::avg_pool2d_forward(kCpu, y.cpu(), x.cpu(), d);
    kernels::avg_pool2d_forward(kGpu, y.gpu(), x.gpu(), d);
    y.check("avg_pool2d", kExact);
    kernels::avg_pool2d_backward(kCpu, dx.cpu(), dy.cpu(), d);
    kernels::avg_pool2d_backward(kGpu, dx.gpu(), dy.gpu(), d);
    dx.check("avg_pool2d backward", kExact);
  }

  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      const kernels::MatmulDesc d{37, 19, 53, ta, tb};
      const Input a(d.m * d.k, 19), b(d.k * d.n, 20);
      Output c(d.m * d.n);
      kernels::matmul(kCpu, c.cpu(), a.cpu(), b.cpu(), d);
      kernels::matmul(kGpu, c.gpu(), a.gpu(), b.gpu(), d);
      c.check("matmul", kReduction);
    }
  }
}

TEST_CASE("cross entropy forward, backward and label check match the cpu") {
  require_gpu();
  const kernels::CrossEntropyDesc d{37, 11};
  const Input logits(d.n * d.classes, 21, 3.f);
  std::vector<int64_t> labels(static_cast<size_t>(d.n));
  for (int64_t i = 0; i < d.n; ++i) labels[static_cast<size_t>(i)] = (i * 7) % d.classes;
  const RawInput lab(labels);
  Output loss(1), lp(d.n * d.classes), dl(d.n * d.classes);
  CHECK(kernels::cross_entropy_forward(kCpu, loss.cpu(), lp.cpu(), logits.cpu(),
                                       static_cast<const int64_t*>(lab.cpu()), d) == -1);
  CHECK(kernels::cross_entropy_forward(kGpu, loss.gpu(), lp.gpu(), logits.gpu(),
                                       static_cast<const int64_t*>(lab.gpu()), d) == -1);
  loss.check("cross_entropy loss", kReduction);
  lp.check("cross_entropy log_probs", kElementwise * 10);
  const Input grad_loss(std::vector<float>{0.5f});
  const Input log_probs(std::vector<float>(lp.cpu(), lp.cpu() + d.n * d.classes));
  kernels::cross_entropy_backward(kCpu, dl.cpu(), log_probs.cpu(),
                                  static_cast<const int64_t*>(lab.cpu()), grad_loss.cpu(), d);
  kernels::cross_entropy_backward(kGpu, dl.gpu(), log_probs.gpu(),
                                  static_cast<const int64_t*>(lab.gpu()), grad_loss.gpu(), d);
  dl.check("cross_entropy backward", kElementwise * 10);

  labels[5] = d.classes;  // out of range: both report the first bad row
  labels[9] = -1;
  const RawInput bad(labels);
  Output l2(1), lp2(d.n * d.classes);
  CHECK(kernels::cross_entropy_forward(kCpu, l2.cpu(), lp2.cpu(), logits.cpu(),
                                       static_cast<const int64_t*>(bad.cpu()), d) == 5);
  CHECK(kernels::cross_entropy_forward(kGpu, l2.gpu(), lp2.gpu(), logits.gpu(),
                                       static_cast<const int64_t*>(bad.gpu()), d) == 5);
}

TEST_CASE("batch renormalization train, eval and backward match the cpu in both layouts") {
  require_gpu();
  for (const bool channels_last : {false, true}) {
    for (const bool relu : {false, true}) {
      check_batch_renorm(brn(4, 6, 37, channels_last, relu));
    }
  }
  check_batch_renorm(brn(32, 8, 32 * 32, false, true));  // several chunks per channel
}

TEST_CASE("folded evaluation batch renormalization coefficients and gradients match the cpu") {
  require_gpu();
  const int64_t c = 12, per_out = 27;
  const Input gamma(c, 22), beta(c, 23), mean(c, 24), dfolded(c * per_out, 25), w(c * per_out, 26);
  std::vector<float> sv = random_values(c, 27);
  for (float& v : sv) v = 0.5f + std::abs(v);
  const Input sigma(sv), db(c, 28);
  Output scale(c), shift(c);
  kernels::batch_renorm_eval_affine(kCpu, scale.cpu(), shift.cpu(), gamma.cpu(), beta.cpu(),
                                    mean.cpu(), sigma.cpu(), c);
  kernels::batch_renorm_eval_affine(kGpu, scale.gpu(), shift.gpu(), gamma.gpu(), beta.gpu(),
                                    mean.gpu(), sigma.gpu(), c);
  scale.check("eval scale", kExact);
  shift.check("eval shift", kElementwise);
  const Input s(std::vector<float>(scale.cpu(), scale.cpu() + c));
  Output dw(c * per_out), dgamma(c);
  kernels::batch_renorm_folded_grads(kCpu, dw.cpu(), dgamma.cpu(), dfolded.cpu(), w.cpu(),
                                     s.cpu(), db.cpu(), mean.cpu(), sigma.cpu(), {c, per_out});
  kernels::batch_renorm_folded_grads(kGpu, dw.gpu(), dgamma.gpu(), dfolded.gpu(), w.gpu(),
                                     s.gpu(), db.gpu(), mean.gpu(), sigma.gpu(), {c, per_out});
  dw.check("folded dw", kExact);
  dgamma.check("folded dgamma", kReduction);
}

TEST_CASE("sgd, synaptic intelligence, cwr* and replay dequantisation match the cpu") {
  require_gpu();
  const int64_t n = 1001;
  const Input g(n, 30), now(n, 31), before(n, 32), star(n, 33);
  const std::vector<float> w0 = random_values(n, 34), v0 = random_values(n, 35);
  for (const bool first : {true, false}) {
    for (const float momentum : {0.f, 0.9f}) {
      CAPTURE(first);
      CAPTURE(momentum);
      kernels::SgdDesc d{n, 0.05f, momentum, 5e-4f, first};
      Output w(n, w0), v(n, v0);
      kernels::sgd_update(kCpu, w.cpu(), v.cpu(), g.cpu(), d);
      kernels::sgd_update(kGpu, w.gpu(), v.gpu(), g.gpu(), d);
      w.check("sgd weights", kElementwise);
      if (momentum != 0.f) v.check("sgd velocity", kElementwise);
    }
  }
  Output traj(n, v0);
  kernels::si_accumulate(kCpu, traj.cpu(), g.cpu(), now.cpu(), before.cpu(), n);
  kernels::si_accumulate(kGpu, traj.gpu(), g.gpu(), now.gpu(), before.gpu(), n);
  traj.check("si trajectory", kElementwise);
  const Input t(v0);
  Output cum(n, w0), imp(n);
  const kernels::SiConsolidateDesc sd{n, 1e-3, 0.001};
  kernels::si_consolidate(kCpu, cum.cpu(), imp.cpu(), now.cpu(), star.cpu(), t.cpu(), sd);
  kernels::si_consolidate(kGpu, cum.gpu(), imp.gpu(), now.gpu(), star.gpu(), t.gpu(), sd);
  cum.check("si cumulative", kElementwise);
  imp.check("si importance", kElementwise);

  const int64_t classes = 10, features = 64;
  const Input wout(classes * features, 36);
  const std::vector<int64_t> rows{1, 4, 7};
  const std::vector<double> weights{-1.0, std::sqrt(300.0 / 120.0), 0.5};
  const RawInput r(rows), p(weights);
  Output saved(classes * features, random_values(classes * features, 37));
  const kernels::CwrDesc cd{3, features};
  kernels::cwr_consolidate(kCpu, saved.cpu(), wout.cpu(), static_cast<const int64_t*>(r.cpu()),
                           static_cast<const double*>(p.cpu()), cd);
  kernels::cwr_consolidate(kGpu, saved.gpu(), wout.gpu(), static_cast<const int64_t*>(r.gpu()),
                           static_cast<const double*>(p.gpu()), cd);
  saved.check("cwr* consolidated rows", kElementwise);

  const int64_t rows_n = 5, channels = 4, inner = 9, row = channels * inner;
  std::vector<uint8_t> q(static_cast<size_t>(rows_n * row));
  std::vector<uint16_t> h(q.size()), bf(q.size());
  const std::vector<float> vals = random_values(rows_n * row, 38);
  for (size_t i = 0; i < q.size(); ++i) {
    q[i] = static_cast<uint8_t>((i * 37) % 256);
    h[i] = float_to_half(vals[i]);
    bf[i] = float_to_bfloat16(vals[i]);
  }
  const Input qs(channels, 39), qo(channels, 40);
  for (const DType dt : {DType::u8, DType::f16, DType::bf16}) {
    CAPTURE(dtype_name(dt));
    const RawInput stored = dt == DType::u8 ? RawInput(q) : RawInput(dt == DType::f16 ? h : bf);
    const kernels::DequantizeDesc dd{rows_n, row, channels, dt};
    Output out(rows_n * row);
    kernels::dequantize_rows(kCpu, out.cpu(), stored.cpu(), qs.cpu(), qo.cpu(), dd);
    kernels::dequantize_rows(kGpu, out.gpu(), stored.gpu(), qs.gpu(), qo.gpu(), dd);
    out.check("replay dequantize", dt == DType::u8 ? kElementwise : kExact);
  }
}

TEST_CASE("any_nonfinite on the gpu finds what the cpu finds") {
  require_gpu();
  std::vector<float> x = random_values(1 << 18, 9);
  const Tensor clean = Tensor::from_vector(x, {static_cast<int64_t>(x.size())}).to(kGpu);
  CHECK_FALSE(kernels::any_nonfinite(kGpu, static_cast<const float*>(clean.raw_data()), clean.numel()));
  x[12345] = std::numeric_limits<float>::infinity();
  const Tensor dirty = Tensor::from_vector(x, {static_cast<int64_t>(x.size())}).to(kGpu);
  CHECK(kernels::any_nonfinite(kGpu, static_cast<const float*>(dirty.raw_data()), dirty.numel()));
}
