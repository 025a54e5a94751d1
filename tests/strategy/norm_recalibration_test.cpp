// BatchReNorm recalibration (strategy/norm_recalibration.h): running statistics become the
// exact statistics of the input, layer by layer, and nothing else changes.
#include <doctest/doctest.h>

#include <cmath>

#include "core/rng.h"
#include "nn/models/mobilenet_v1.h"
#include "strategy/norm_recalibration.h"

using namespace ar1;

namespace {

// Per-channel mean and sqrt(biased variance + eps) of an N x C x H x W tensor.
std::pair<std::vector<double>, std::vector<double>> channel_stats(const Tensor& t, double eps) {
  const Tensor c = t.contiguous();
  const int64_t n = c.size(0), ch = c.size(1), hw = c.numel() / (n * ch);
  const float* p = c.data<float>();
  std::vector<double> mean(ch), sd(ch);
  for (int64_t k = 0; k < ch; ++k) {
    double s = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < hw; ++j) {
        const double v = p[(i * ch + k) * hw + j];
        s += v;
        sq += v * v;
      }
    }
    const double m = s / static_cast<double>(n * hw);
    mean[k] = m;
    sd[k] = std::sqrt(sq / static_cast<double>(n * hw) - m * m + eps);
  }
  return {mean, sd};
}

}  // namespace

TEST_CASE("norm recalibration sets each BatchReNorm to its input's statistics in eval mode") {
  Generator gen(3);
  // Two conv -> BatchReNorm -> ReLU blocks, as in MobileNetV1's end_features.
  nn::Sequential layers;
  nn::BatchReNormOptions bn;
  bn.momentum = 0.01;
  bn.r_max = 1.25;
  bn.d_max = 0.5;
  bn.r_d_inc = 1e-3;
  layers.push_back(std::make_shared<nn::ConvBnRelu>(nn::Conv2dOptions{3, 4, 3, 1, 1, 1}, bn, gen,
                                                    nn::WeightInit::kaiming_normal_relu));
  layers.push_back(std::make_shared<nn::ConvBnRelu>(nn::Conv2dOptions{4, 5, 1, 1, 0, 1}, bn, gen,
                                                    nn::WeightInit::kaiming_normal_relu));
  const Tensor x = normal({16, 3, 4, 4}, gen, 2.f, 3.f);
  // Stale statistics, far from the input's.
  auto norms = nn::batch_renorm_layers(layers);
  REQUIRE(norms.size() == 2);
  for (auto& [name, b] : norms) {
    Tensor(b->running_mean()).data<float>()[0] = 7.f;
    Tensor(b->running_std()).data<float>()[1] = 1e-3f;
  }
  layers.eval();

  strategy::recalibrate_batch_renorm(layers, x);

  CHECK_FALSE(layers.is_training());
  // Layer by layer: the input of block 1 is block 0's evaluation-mode output under its new
  // statistics.
  Tensor h = x;
  for (int64_t i = 0; i < 2; ++i) {
    auto block = layers.at<nn::ConvBnRelu>(i);
    const Tensor pre = block->conv()->forward(h);
    const auto [mean, sd] = channel_stats(pre, block->bn()->options().eps);
    const auto rm = block->bn()->running_mean().to_vector<float>();
    const auto rs = block->bn()->running_std().to_vector<float>();
    for (size_t c = 0; c < mean.size(); ++c) {
      CAPTURE(i);
      CAPTURE(c);
      CHECK(rm[c] == doctest::Approx(mean[c]).epsilon(1e-4).scale(1));
      CHECK(rs[c] == doctest::Approx(sd[c]).epsilon(1e-4));
    }
    // Settings are back: momentum, clip limits and their growth.
    CHECK(block->bn()->momentum() == doctest::Approx(0.01));
    CHECK(block->bn()->r_max() == doctest::Approx(1.25));
    CHECK(block->bn()->d_max() == doctest::Approx(0.5));
    CHECK(block->bn()->r_d_inc() == doctest::Approx(1e-3));
    h = block->forward(h);
  }
  // Training mode is restored too.
  layers.train();
  strategy::recalibrate_batch_renorm(layers, x);
  CHECK(layers.is_training());
  CHECK_THROWS_AS(strategy::recalibrate_batch_renorm(layers, Tensor()), ar1::Error);
}
