// MobileNetV1 (SPEC.md section 1): shapes, parameter names per split, latent replay input,
// seeded bit-identity.
#include <doctest/doctest.h>

#include <string>

#include "nn/models/mobilenet_v1.h"
#include "tests/support/gradcheck.h"

using namespace ar1;

namespace {

std::vector<std::string> expected_names(int64_t split, bool buffers) {
  std::vector<std::string> out;
  for (int64_t i = 0; i <= 26; ++i) {
    const std::string base = i <= split ? "lat_features." + std::to_string(i)
                                        : "end_features." + std::to_string(i - split - 1);
    if (buffers) {
      out.push_back(base + ".bn.running_mean");
      out.push_back(base + ".bn.running_std");
    } else {
      out.push_back(base + ".conv.weight");
      out.push_back(base + ".bn.gamma");
      out.push_back(base + ".bn.beta");
    }
  }
  if (!buffers) out.push_back("output.weight");
  return out;
}

std::vector<std::string> names_of(const nn::StateDict& s) {
  std::vector<std::string> out;
  for (const auto& [n, t] : s) out.push_back(n);
  return out;
}

}  // namespace

TEST_CASE("mobilenet shapes at 32x32 and 64x64 for alpha 0.25 and 0.5") {
  for (const double alpha : {0.25, 0.5}) {
    for (const int64_t size : {32, 64}) {
      CAPTURE(alpha);
      CAPTURE(size);
      Generator gen(1);
      nn::MobileNetV1 net({alpha, 10, 19, size}, gen);
      Generator xg(2);
      const Tensor x = normal({2, 3, size, size}, xg);
      const auto out = net.forward(x, Tensor(), true);
      CHECK(out.logits.shape() == Shape{2, 10});
      const Shape lat{2, static_cast<int64_t>(512 * alpha), size / 16, size / 16};
      CHECK(out.latent.shape() == lat);
      CHECK(net.latent_shape() == Shape(lat.begin() + 1, lat.end()));
      CHECK(net.output()->weight().shape() == Shape{10, static_cast<int64_t>(1024 * alpha)});
      CHECK(net.lat_features()->at<nn::ConvBnRelu>(0)->conv()->weight().shape() ==
            Shape{static_cast<int64_t>(32 * alpha), 3, 3, 3});
    }
  }
}

TEST_CASE("mobilenet parameter and buffer names for split 19 and split 5") {
  for (const int64_t split : {19, 5, 0, 26}) {
    CAPTURE(split);
    Generator gen(3);
    nn::MobileNetV1 net({0.25, 10, split, 32}, gen);
    CHECK(names_of(net.named_parameters()) == expected_names(split, false));
    CHECK(names_of(net.named_buffers()) == expected_names(split, true));
    CHECK(net.lat_features()->size() == split + 1);
    CHECK(net.end_features()->size() == 27 - split);  // the rest + the pool
    CHECK(net.end_features()->at<nn::GlobalAvgPool2d>(-1) != nullptr);
    CHECK(net.state_dict().size() == 27 * 5 + 1);
  }
  Generator gen(3);
  CHECK_THROWS_WITH_AS(nn::MobileNetV1({0.25, 10, 27, 32}, gen),
                       doctest::Contains("latent_layer_num 27 out of range"), ar1::Error);
  nn::MobileNetV1 net({0.25, 10, 19, 32}, gen);
  // Layer kinds: odd layers are depthwise (groups = channels), even ones pointwise (1x1).
  auto l19 = net.lat_features()->at<nn::ConvBnRelu>(19);
  CHECK(l19->conv()->options().groups == 128);
  CHECK(l19->conv()->weight().shape() == Shape{128, 1, 3, 3});
  auto l20 = net.end_features()->at<nn::ConvBnRelu>(0);
  CHECK(l20->conv()->options().kernel_size == 1);
  CHECK(l20->conv()->weight().shape() == Shape{128, 128, 1, 1});
  auto l24 = net.end_features()->at<nn::ConvBnRelu>(4);
  CHECK(l24->conv()->weight().shape() == Shape{256, 128, 1, 1});
  CHECK(nn::batch_renorm_layers(net).size() == 27);
  CHECK(nn::batch_renorm_layers(net)[0].first == "lat_features.0.bn");
}

TEST_CASE("mobilenet concatenates replayed latents after the new images' latents") {
  Generator gen(4);
  nn::MobileNetV1 net({0.25, 7, 19, 32}, gen);
  net.eval();  // batch-independent normalisation: rows can be compared one by one
  Generator xg(5);
  const Tensor x1 = normal({3, 3, 32, 32}, xg);
  const Tensor x2 = normal({2, 3, 32, 32}, xg);
  const Tensor lat2 = net.lat_features()->forward(x2);
  const auto out = net.forward(x1, lat2, true);
  CHECK(out.logits.shape() == Shape{5, 7});
  CHECK(out.latent.shape() == Shape{3, 128, 2, 2});
  CHECK(ar1::testing::max_abs_diff(out.latent, net.lat_features()->forward(x1)) == 0.0);
  const Tensor want = Tensor::concat({net.forward(x1), net.forward(x2)});
  CHECK(ar1::testing::max_abs_diff(out.logits, want) < 1e-5);
  // Without return_lat_acts nothing extra comes back; a wrong latent shape is refused.
  CHECK_FALSE(net.forward(x1, lat2).latent.defined());
  CHECK_THROWS_WITH_AS(net.forward(x1, Tensor::zeros({2, 64, 2, 2})),
                       doctest::Contains("[MobileNetV1] latent_input"), ar1::Error);
  // Gradients reach the lat_features only through x's rows.
  net.train();
  nn::CrossEntropyLoss ce;
  ce(net.forward(x1, lat2.detach()).logits, Tensor::from_i64({0, 1, 2, 3, 4}, {5})).backward();
  CHECK(net.lat_features()->at<nn::ConvBnRelu>(0)->conv()->weight().grad().defined());
  CHECK(net.output()->weight().grad().defined());
}

TEST_CASE("mobilenet is bit-identical for the same seed and differs for another") {
  auto run = [](uint64_t seed, nn::WeightInit init) {
    Generator gen(seed);
    nn::MobileNetV1 net({0.25, 10, 19, 32}, gen, init);
    Generator xg(99);
    const Tensor x = normal({4, 3, 32, 32}, xg);
    nn::CrossEntropyLoss ce;
    const Tensor logits = net.forward(x);
    ce(logits, Tensor::from_i64({1, 2, 3, 4}, {4})).backward();
    std::vector<std::vector<float>> out{logits.to_vector<float>()};
    for (const auto& [n, p] : net.named_parameters()) out.push_back(p.grad().to_vector<float>());
    for (const auto& [n, b] : net.named_buffers()) out.push_back(b.to_vector<float>());
    return out;
  };
  for (const auto init : {nn::WeightInit::pytorch_default, nn::WeightInit::kaiming_normal_relu}) {
    const auto a = run(7, init), b = run(7, init), c = run(8, init);
    CHECK(a == b);
    CHECK(a[0] != c[0]);
  }
}

TEST_CASE("mobilenet training mode: only layers in training mode move their statistics") {
  Generator gen(6);
  nn::MobileNetV1 net({0.25, 10, 19, 32}, gen);
  net.train();
  net.lat_features()->eval();
  Generator xg(7);
  net.forward(normal({2, 3, 32, 32}, xg));
  for (const auto& [name, bn] : nn::batch_renorm_layers(net)) {
    const std::string layer = name;  // clang 14 cannot capture a binding in CAPTURE
    CAPTURE(layer);
    const bool lat = name.rfind("lat_features", 0) == 0;
    CHECK((bn->running_std().to_vector<float>() == std::vector<float>(bn->channels(), 1.f)) == lat);
    CHECK((bn->r_max() == 1.0) == lat);
  }
}
