// The CUDA kernels' math, run on the CPU: the element functions the .cu files call
// (kernels/math/), in the summation order of the GPU reductions (kernels/math/fixed_order_sum.h,
// emulated here thread by thread), against the CPU kernels on the same inputs. This is what
// checks the GPU backend's arithmetic and index math on machines without a GPU; the GPU itself
// is checked by tests/cuda/ where one is present.
//
// Tolerance: |gpu order - cpu| <= 1e-5 (1 + max |cpu|). Both sides sum in double where the CPU
// does (Batch Renormalization, weight gradients), so only the order differs; the depthwise
// forward and backward-data sum at most 25 f32 products, which oneDNN orders its own way.
// Average pooling follows the CPU's order exactly: bit equality.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/memory_format.h"
#include "core/rng.h"
#include "kernels/batch_renorm.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/plan_cache.h"
#include "kernels/math/avg_pool2d.h"
#include "kernels/math/batch_renorm.h"
#include "kernels/math/depthwise_conv2d.h"
#include "kernels/math/fixed_order_sum.h"
#include "kernels/math/strided_index.h"
#include "kernels/pooling.h"

namespace {

using namespace ar1;
namespace math = ar1::kernels::math;
using kernels::ConvDesc;

constexpr double kRelTol = 1e-5;

void expect_close(const std::string& what, const std::vector<float>& got,
                  const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, std::abs(double(got[i]) - double(want[i])));
    scale = std::max(scale, std::abs(double(want[i])));
  }
  INFO(what, ": max |diff| ", diff, ", max |cpu| ", scale);
  CHECK(diff <= kRelTol * (1.0 + scale));
}

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  Generator gen(seed);
  return normal({n}, gen).to_vector<float>();
}

// One channel of kernels/cuda/channel_reduction.cuh: chunks of the terms, thread t of a chunk
// taking t, t + 256, ..., each chunk's partials and then the chunks' totals added in the tree.
template <class Term>
std::vector<double> gpu_order_sums(int64_t count, int64_t values, Term term) {
  const int64_t chunks = math::reduction_chunks(count);
  std::vector<std::vector<double>> totals(static_cast<size_t>(values),
                                          std::vector<double>(math::kReduceThreads, 0.0));
  for (int64_t g = 0; g < chunks; ++g) {
    const int64_t begin = math::chunk_begin(g, count, chunks);
    const int64_t end = math::chunk_begin(g + 1, count, chunks);
    std::vector<std::vector<double>> partial(static_cast<size_t>(values),
                                             std::vector<double>(math::kReduceThreads, 0.0));
    for (int t = 0; t < math::kReduceThreads; ++t) {
      for (int64_t j = begin + t; j < end; j += math::kReduceThreads) term(j, t, partial);
    }
    for (int64_t v = 0; v < values; ++v) {
      totals[static_cast<size_t>(v)][static_cast<size_t>(g)] =
          math::tree_sum(partial[static_cast<size_t>(v)].data());
    }
  }
  std::vector<double> out;
  for (auto& t : totals) out.push_back(math::tree_sum(t.data()));
  return out;
}

// ---- depthwise convolution

std::vector<float> depthwise_weight_grad_gpu_order(const std::vector<float>& dy,
                                                   const std::vector<float>& x,
                                                   const ConvDesc& d) {
  const int64_t taps = d.kh * d.kw, count = d.n * d.oh() * d.ow();
  std::vector<float> dw(static_cast<size_t>(d.c_out * taps));
  for (int64_t c = 0; c < d.c_out; ++c) {
    const std::vector<double> sums =
        gpu_order_sums(count, taps, [&](int64_t pos, int t, auto& partial) {
          double acc[math::kDepthwiseMaxTaps] = {};
          math::depthwise_weight_terms(pos, c, dy.data(), x.data(), d, acc);
          for (int64_t k = 0; k < taps; ++k) partial[static_cast<size_t>(k)][t] += acc[k];
        });
    for (int64_t k = 0; k < taps; ++k) {
      dw[static_cast<size_t>(c * taps + k)] = static_cast<float>(sums[static_cast<size_t>(k)]);
    }
  }
  return dw;
}

void check_depthwise(ConvDesc d) {
  CAPTURE(d.h);
  CAPTURE(d.w);
  CAPTURE(d.kh);
  CAPTURE(d.stride);
  CAPTURE(d.channels_last);
  CAPTURE(d.relu);
  REQUIRE(math::depthwise_supported(d));
  const int64_t in = d.n * d.c_in * d.h * d.w, out = d.n * d.c_out * d.oh() * d.ow();
  const std::vector<float> x = random_vector(in, 1), w = random_vector(d.c_out * d.kh * d.kw, 2);
  const std::vector<float> dy = random_vector(out, 3), bias = random_vector(d.c_out, 4);

  std::vector<float> y_cpu(static_cast<size_t>(out)), y_gpu(static_cast<size_t>(out));
  kernels::cpu::conv2d_forward(y_cpu.data(), x.data(), w.data(), d, d.bias ? bias.data() : nullptr);
  for (int64_t i = 0; i < out; ++i) {
    y_gpu[static_cast<size_t>(i)] =
        math::depthwise_forward_fused_at(i, x.data(), w.data(), bias.data(), d);
  }
  expect_close("forward", y_gpu, y_cpu);

  ConvDesc plain = d;
  plain.bias = plain.relu = false;
  std::vector<float> dx_cpu(static_cast<size_t>(in)), dx_gpu(static_cast<size_t>(in));
  kernels::cpu::conv2d_backward_data(dx_cpu.data(), dy.data(), w.data(), plain);
  for (int64_t i = 0; i < in; ++i) {
    dx_gpu[static_cast<size_t>(i)] = math::depthwise_backward_data_at(i, dy.data(), w.data(), plain);
  }
  expect_close("backward data", dx_gpu, dx_cpu);

  std::vector<float> dw_cpu(w.size());
  kernels::cpu::conv2d_backward_weights(dw_cpu.data(), dy.data(), x.data(), plain);
  expect_close("backward weights", depthwise_weight_grad_gpu_order(dy, x, plain), dw_cpu);
}

ConvDesc depthwise(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t stride) {
  ConvDesc d;
  d.n = n, d.c_in = d.c_out = d.groups = c, d.h = h, d.w = w;
  d.kh = d.kw = k, d.stride = stride, d.pad = k / 2;
  return d;
}

// ---- batch renormalization

struct BrnCase {
  kernels::BatchReNormDesc d;
  std::vector<float> x, gamma, beta, mean0, std0, dy;
};

BrnCase brn_case(int64_t n, int64_t c, int64_t hw, bool channels_last, bool relu) {
  BrnCase b;
  b.d.n = n, b.d.c = c, b.d.hw = hw, b.d.channels_last = channels_last, b.d.relu = relu;
  b.d.r_max = 1.5f, b.d.d_max = 0.5f, b.d.momentum = 0.1f, b.d.eps = 1e-3f;
  const int64_t total = n * c * hw;
  b.x = random_vector(total, 11);
  for (float& v : b.x) v = 3.f + 2.f * v;  // a mean far from 0: the shift matters
  b.gamma = random_vector(c, 12), b.beta = random_vector(c, 13), b.mean0 = random_vector(c, 14);
  b.std0 = random_vector(c, 15);
  for (float& v : b.std0) v = 1.f + 0.3f * std::abs(v);
  b.dy = random_vector(total, 16);
  return b;
}

void check_batch_renorm(BrnCase b) {
  const kernels::BatchReNormDesc& d = b.d;
  CAPTURE(d.channels_last);
  CAPTURE(d.relu);
  const int64_t total = d.n * d.c * d.hw;
  const size_t c = static_cast<size_t>(d.c);

  // The CPU kernel.
  std::vector<float> y_cpu(static_cast<size_t>(total)), rm_cpu = b.mean0, rs_cpu = b.std0;
  std::vector<float> mean(c), bstd(c), inv_std(c), r(c), dd(c);
  kernels::cpu::batch_renorm_train_forward(y_cpu.data(), {mean.data(), bstd.data(),
                                           inv_std.data(), r.data(), dd.data()},
                                           rm_cpu.data(), rs_cpu.data(), b.x.data(),
                                           b.gamma.data(), b.beta.data(), d);

  // The GPU's order: kernels/cuda/batch_renorm.cu, stage by stage.
  std::vector<float> y_gpu(static_cast<size_t>(total)), rm_gpu = b.mean0, rs_gpu = b.std0;
  std::vector<float> g_mean(c), g_std(c), g_inv(c), g_r(c), g_d(c), a(c), bb(c);
  for (int64_t ch = 0; ch < d.c; ++ch) {
    const double shift = math::batch_renorm_shift(b.x.data(), ch, d);
    const std::vector<double> s =
        gpu_order_sums(d.per_channel(), 2, [&](int64_t j, int t, auto& partial) {
          const double v = double(b.x[static_cast<size_t>(math::batch_renorm_element(j, ch, d))]) -
                           shift;
          partial[0][t] += v;
          partial[1][t] += v * v;
        });
    const size_t k = static_cast<size_t>(ch);
    const math::BatchReNormChannel out = math::batch_renorm_train_channel(
        s[0], s[1], shift, b.gamma[k], b.beta[k], rm_gpu[k], rs_gpu[k], d);
    a[k] = out.a, bb[k] = out.b, g_mean[k] = out.mean, g_std[k] = out.std;
    g_inv[k] = out.inv_std, g_r[k] = out.r, g_d[k] = out.d;
    rm_gpu[k] = math::batch_renorm_running(rm_gpu[k], out.mean, d.momentum);
    rs_gpu[k] = math::batch_renorm_running(rs_gpu[k], out.std, d.momentum);
  }
  for (int64_t i = 0; i < total; ++i) {
    const int64_t ch = math::batch_renorm_channel_of(i, d);
    y_gpu[static_cast<size_t>(i)] = math::batch_renorm_affine(
        b.x[static_cast<size_t>(i)], a[static_cast<size_t>(ch)], bb[static_cast<size_t>(ch)], d.relu);
  }
  expect_close("batch mean", g_mean, mean);
  expect_close("batch std", g_std, bstd);
  expect_close("r", g_r, r);
  expect_close("d", g_d, dd);
  expect_close("running mean", rm_gpu, rm_cpu);
  expect_close("running std", rs_gpu, rs_cpu);
  expect_close("y", y_gpu, y_cpu);

  // Backward, training and evaluation.
  for (const bool training : {true, false}) {
    CAPTURE(training);
    kernels::BatchReNormDesc bd = d;
    bd.training = training;
    std::vector<float> dx_cpu(static_cast<size_t>(total)), dg_cpu(c), db_cpu(c);
    kernels::cpu::batch_renorm_backward(dx_cpu.data(), dg_cpu.data(), db_cpu.data(), b.dy.data(),
                                        b.x.data(), y_cpu.data(), b.gamma.data(), mean.data(),
                                        inv_std.data(), r.data(), dd.data(), bd);
    std::vector<float> dx_gpu(static_cast<size_t>(total)), dg_gpu(c), db_gpu(c);
    std::vector<float> ca(c), cb(c), cd(c);
    for (int64_t ch = 0; ch < d.c; ++ch) {
      const size_t k = static_cast<size_t>(ch);
      const std::vector<double> s =
          gpu_order_sums(d.per_channel(), 2, [&](int64_t j, int t, auto& partial) {
            const size_t e = static_cast<size_t>(math::batch_renorm_element(j, ch, d));
            const double g = math::batch_renorm_masked_grad(b.dy[e], y_cpu[e], d.relu);
            partial[0][t] += g;
            partial[1][t] += g * (double(b.x[e]) - mean[k]);
          });
      const math::BatchReNormGradChannel out = math::batch_renorm_grad_channel(
          s[0], s[1], b.gamma[k], inv_std[k], r[k], dd[k], bd);
      dg_gpu[k] = out.dgamma, db_gpu[k] = out.dbeta, ca[k] = out.a, cb[k] = out.b, cd[k] = out.d;
    }
    for (int64_t i = 0; i < total; ++i) {
      const size_t e = static_cast<size_t>(i);
      const size_t ch = static_cast<size_t>(math::batch_renorm_channel_of(i, d));
      const float g = math::batch_renorm_masked_grad(b.dy[e], y_cpu[e], d.relu);
      dx_gpu[e] = math::batch_renorm_dx(g, b.x[e], mean[ch], ca[ch], cb[ch], cd[ch]);
    }
    expect_close("dx", dx_gpu, dx_cpu);
    expect_close("dgamma", dg_gpu, dg_cpu);
    expect_close("dbeta", db_gpu, db_cpu);
  }
}

}  // namespace

TEST_CASE("cuda math depthwise convolution in the gpu's order matches the cpu convolution") {
  check_depthwise(depthwise(2, 5, 7, 9, 3, 1));    // odd sizes, stride 1
  check_depthwise(depthwise(2, 6, 8, 11, 3, 2));   // stride 2, odd width
  check_depthwise(depthwise(1, 3, 9, 9, 5, 2));    // 5x5 taps, the most the own kernels take
  check_depthwise(depthwise(3, 4, 1, 1, 3, 1));    // 1x1 input: padding only
  ConvDesc cl = depthwise(2, 6, 8, 11, 3, 2);
  cl.channels_last = true;
  check_depthwise(cl);
  ConvDesc fused = depthwise(2, 5, 7, 9, 3, 1);
  fused.bias = fused.relu = true;  // the evaluation-mode epilogue
  check_depthwise(fused);
  // Weight gradients large enough to take several chunks of the two-stage sum.
  check_depthwise(depthwise(8, 2, 64, 64, 3, 1));
  // Dense and pointwise convolutions go to cuDNN, not to these kernels.
  ConvDesc dense = depthwise(1, 4, 8, 8, 3, 2);
  dense.groups = 1;
  CHECK_FALSE(math::depthwise_supported(dense));
  CHECK_FALSE(math::depthwise_supported(depthwise(1, 4, 8, 8, 7, 1)));  // 49 taps
}

TEST_CASE("cuda math average pooling element functions give the cpu's bits") {
  for (const kernels::AvgPoolDesc d :
       {kernels::AvgPoolDesc{2, 3, 4, 4, 4, 4, 1}, kernels::AvgPoolDesc{2, 3, 7, 5, 2, 2, 2},
        kernels::AvgPoolDesc{1, 2, 6, 6, 3, 3, 1}}) {
    CAPTURE(d.h);
    CAPTURE(d.kh);
    CAPTURE(d.stride);
    const int64_t in = d.n * d.c * d.h * d.w, out = d.n * d.c * d.oh() * d.ow();
    const std::vector<float> x = random_vector(in, 5), dy = random_vector(out, 6);
    std::vector<float> y_cpu(static_cast<size_t>(out)), dx_cpu(static_cast<size_t>(in));
    kernels::cpu::avg_pool2d_forward(y_cpu.data(), x.data(), d);
    kernels::cpu::avg_pool2d_backward(dx_cpu.data(), dy.data(), d);
    for (int64_t i = 0; i < out; ++i) {
      REQUIRE(math::avg_pool2d_forward_at(i, x.data(), d) == y_cpu[static_cast<size_t>(i)]);
    }
    for (int64_t i = 0; i < in; ++i) {
      REQUIRE(math::avg_pool2d_backward_at(i, dy.data(), d) == dx_cpu[static_cast<size_t>(i)]);
    }
  }
}

TEST_CASE("cuda math batch renormalization in the gpu's order matches the cpu kernel") {
  check_batch_renorm(brn_case(3, 5, 37, false, false));
  check_batch_renorm(brn_case(3, 5, 37, false, true));
  check_batch_renorm(brn_case(3, 5, 37, true, true));
  check_batch_renorm(brn_case(16, 3, 1600, false, true));  // several chunks per channel
}

TEST_CASE("cuda math strided offsets reproduce contiguous copies of views") {
  Generator gen(7);
  const Tensor base = normal({2, 3, 4, 5}, gen);
  const Tensor cl = base.to_channels_last();  // strided as NCHW
  const Tensor sliced = cl.slice(1, 2);
  for (const Tensor* t : {&cl, &sliced}) {
    StridedView v;
    v.ndim = static_cast<int>(t->dim());
    for (int d = 0; d < v.ndim; ++d) {
      v.shape[d] = t->shape()[static_cast<size_t>(d)];
      v.strides[d] = t->strides()[static_cast<size_t>(d)];
    }
    const float* src = static_cast<const float*>(t->raw_data());
    const std::vector<float> want = t->contiguous().to_vector<float>();
    for (int64_t i = 0; i < t->numel(); ++i) {
      REQUIRE(src[math::strided_offset(i, v)] == want[static_cast<size_t>(i)]);
    }
  }
  // Tensor::to_channels_last on a GPU gathers the [N, H, W, C] order through permuted strides.
  StridedView nhwc;
  nhwc.ndim = 4;
  const Shape& s = base.shape();
  const Strides& st = base.strides();
  const int64_t order[4] = {0, 2, 3, 1};
  for (int d = 0; d < 4; ++d) nhwc.shape[d] = s[order[d]], nhwc.strides[d] = st[order[d]];
  const float* src = static_cast<const float*>(base.raw_data());
  const float* want = static_cast<const float*>(cl.raw_data());
  for (int64_t i = 0; i < base.numel(); ++i) REQUIRE(src[math::strided_offset(i, nhwc)] == want[i]);
}

TEST_CASE("cuda math fixed-order sums partition the terms and match a plain double sum") {
  for (const int64_t count : {int64_t{0}, int64_t{1}, int64_t{255}, int64_t{257},
                              int64_t{16385}, int64_t{1} << 20}) {
    CAPTURE(count);
    const int64_t chunks = math::reduction_chunks(count);
    CHECK(chunks >= 1);
    CHECK(chunks <= math::kReduceThreads);
    CHECK(math::chunk_begin(0, count, chunks) == 0);
    CHECK(math::chunk_begin(chunks, count, chunks) == count);
    double plain = 0;
    int64_t seen = 0;
    const std::vector<double> s = gpu_order_sums(count, 1, [&](int64_t j, int t, auto& partial) {
      const double v = std::sin(static_cast<double>(j));
      partial[0][t] += v;
      ++seen;
    });
    for (int64_t j = 0; j < count; ++j) plain += std::sin(static_cast<double>(j));
    CHECK(seen == count);  // every term exactly once
    CHECK(std::abs(s[0] - plain) <= 1e-9 * (1.0 + std::abs(plain)));
  }
}

TEST_CASE("cuda plan cache returns cached plans and drops the least recently used") {
  struct Key {
    int64_t a, b;
  };
  kernels::cuda::PlanCache<Key, int> cache(2);
  int made = 0;
  auto make = [&] { return ++made; };
  CHECK(cache.get({1, 1}, make) == 1);
  CHECK(cache.get({2, 2}, make) == 2);
  CHECK(cache.get({1, 1}, make) == 1);  // hit; {1, 1} is now the most recent
  CHECK(cache.get({3, 3}, make) == 3);  // evicts {2, 2}
  CHECK(cache.size() == 2);
  CHECK(cache.get({1, 1}, make) == 1);
  CHECK(cache.get({2, 2}, make) == 4);  // made again
  CHECK(made == 4);
}
