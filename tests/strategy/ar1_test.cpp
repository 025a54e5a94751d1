// AR1 mechanics on tiny models and data: the replay memory keeps each latent with its own
// label, minibatches split between new images and replay as SPEC.md says, freezing and the
// BatchReNorm schedule after the first experience.
#include <doctest/doctest.h>

#include <cmath>

#include "data/scenario.h"
#include "nn/models/mobilenet_v1.h"
#include "strategy/ar1.h"
#include "strategy/norm_recalibration.h"

using namespace ar1;
using namespace ar1::strategy;

namespace {

// 1-channel 2x2 images whose every pixel is 10 * label: a latent that averages the image
// encodes its own label.
data::DatasetPtr label_images(const std::vector<int64_t>& labels, int64_t classes) {
  std::vector<uint8_t> pixels;
  for (int64_t y : labels) {
    for (int k = 0; k < 4; ++k) pixels.push_back(static_cast<uint8_t>(10 * y));
  }
  return std::make_shared<data::InMemoryDataset>(pixels, 2, 2, 1, labels, classes, "labels");
}

// lat_features = global average pool (the latent is 10 * label / 255), end_features = a 1x1
// conv, then the output layer.
std::shared_ptr<nn::LatentSplitModel> pooling_model(int64_t classes, Generator& gen) {
  nn::Sequential body;
  body.push_back(std::make_shared<nn::GlobalAvgPool2d>());
  body.push_back(std::make_shared<nn::Conv2d>(nn::Conv2dOptions{1, 4, 1, 1, 0, 1}, gen));
  return std::make_shared<nn::LatentSplitModel>(
      body, 0, std::make_shared<nn::Linear>(nn::LinearOptions{4, classes, false}, gen));
}

AR1Options tiny_options() {
  AR1Options o;
  o.train_mb_size = 4;
  o.rm_sz = 10;
  o.train_epochs = 2;
  o.latent_layer_num = 0;
  o.freeze_below_layer = "end_features.0";
  o.lr = 0.01;
  o.inc_lr = 0.01;
  o.train_pipeline = o.eval_pipeline = data::Pipeline{data::scale_to_unit()};
  return o;
}

// Records the batch sizes of every training iteration.
struct BatchSizes : Plugin {
  std::vector<std::pair<int64_t, int64_t>> sizes;  // (new images, labels incl. replay)
  void after_forward(SupervisedTemplate& s) override {
    sizes.emplace_back(s.mb_x.size(0), s.mb_y.size(0));
  }
};

// MobileNetV1 alpha 0.25 for 32 x 32 images of 4 classes.
nn::MobileNetConfig small_mobilenet() {
  nn::MobileNetConfig mc;
  mc.alpha = 0.25;
  mc.num_classes = 4;
  mc.input_size = 32;
  return mc;
}

// AR1 on small_mobilenet(): minibatches of 8, a memory of 8, one epoch, 32 x 32 inputs.
AR1Options small_mobilenet_options() {
  AR1Options o;
  o.train_mb_size = 8;
  o.rm_sz = 8;
  o.train_epochs = 1;
  o.train_pipeline = o.eval_pipeline = data::standard_pipeline(32);
  return o;
}

// `count` random 32 x 32 RGB images, labels cycling through 4 classes.
data::DatasetPtr noise_images(int64_t count, Generator& gen) {
  std::vector<uint8_t> pixels(static_cast<size_t>(count * 32 * 32 * 3));
  for (uint8_t& p : pixels) p = static_cast<uint8_t>(gen.next_below(256));
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < count; ++i) labels.push_back(i % 4);
  return std::make_shared<data::InMemoryDataset>(pixels, 32, 32, 3, labels, 4, "noise");
}

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> v;
  for (int64_t i = begin; i < end; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("ar1 replay memory keeps each latent with its own label across experiences") {
  // Experience 0: 12 images of classes 0-2; 1: 10 images of 3-4; 2: 6 images of 1 and 5.
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 12; ++i) labels.push_back(i % 3);
  for (int64_t i = 0; i < 10; ++i) labels.push_back(3 + i % 2);
  for (int64_t i = 0; i < 6; ++i) labels.push_back(i % 2 ? 5 : 1);
  const auto ds = label_images(labels, 6);
  Generator gen(0);
  AR1 strategy(pooling_model(6, gen), tiny_options());
  const int64_t expected_sizes[] = {10, 10, 10};
  const std::pair<int64_t, int64_t> spans[] = {{0, 12}, {12, 22}, {22, 28}};
  for (int64_t e = 0; e < 3; ++e) {
    strategy.train(data::make_experience(e, ds, range(spans[e].first, spans[e].second)));
    LatentReplayMemory& m = strategy.replay_memory();
    CHECK(m.size() == expected_sizes[e]);
    auto [acts, ys] = m.rows(0, m.size());
    for (int64_t r = 0; r < m.size(); ++r) {
      const float label = static_cast<float>(ys.data<int64_t>()[r]);
      CHECK(acts.data<float>()[r] == doctest::Approx(10.f * label / 255.f).epsilon(1e-6));
    }
  }
  // After experience 1, h = 10 // 2 = 5 rows came from classes 3-4; after 2, 10 // 3 = 3 rows
  // from experience 2 overwrote others (some may have replaced experience 1's).
  int64_t from_last = 0;
  for (int64_t y : strategy.replay_memory().labels()) from_last += y == 5 || y == 1;
  CHECK(from_last >= 3);
}

TEST_CASE("ar1 minibatches join new images and replayed latents as the formula says") {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 30; ++i) labels.push_back(i % 3);
  const auto ds = label_images(labels, 3);
  Generator gen(1);
  auto sizes = std::make_shared<BatchSizes>();
  AR1Options o = tiny_options();
  o.train_epochs = 1;
  AR1 strategy(pooling_model(3, gen), o, {sizes});

  strategy.train(data::make_experience(0, ds, range(0, 10)));  // 10 images, batches of 4
  CHECK(sizes->sizes == std::vector<std::pair<int64_t, int64_t>>{{4, 4}, {4, 4}, {2, 2}});
  CHECK(strategy.replay_memory().size() == 10);

  // N = 10, rm_sz = 10, mb = 4: (10 + 10) // 4 = 5, cur = 2, rep = 2: 5 iterations of 2 + 2.
  sizes->sizes.clear();
  strategy.train(data::make_experience(1, ds, range(10, 20)));
  CHECK(sizes->sizes == std::vector<std::pair<int64_t, int64_t>>(5, {2, 4}));

  // A tiny experience: N = 3, (3 + 10) // 4 = 3, cur = 1, rep = 3: rows [0,3) [3,6) [6,9).
  sizes->sizes.clear();
  strategy.train(data::make_experience(2, ds, range(20, 23)));
  CHECK(sizes->sizes == std::vector<std::pair<int64_t, int64_t>>(3, {1, 4}));
  CHECK(strategy.replay_plan().new_per_batch == 1);
  CHECK(strategy.replay_plan().replay_per_batch == 3);
}

TEST_CASE("ar1 replay_wrap fills the last minibatches from the start of the memory") {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 17; ++i) labels.push_back(i % 3);
  const auto ds = label_images(labels, 3);
  // Replayed labels per iteration, in minibatch order.
  struct ReplayedLabels : Plugin {
    std::vector<std::vector<int64_t>> rows;
    void after_forward(SupervisedTemplate& s) override {
      const auto y = s.mb_y.to_vector<int64_t>();
      rows.emplace_back(y.begin() + s.mb_x.size(0), y.end());
    }
  };
  for (const bool wrap : {false, true}) {
    CAPTURE(wrap);
    Generator gen(1);
    auto seen = std::make_shared<ReplayedLabels>();
    AR1Options o = tiny_options();
    o.train_epochs = 1;
    o.replay_wrap = wrap;
    AR1 strategy(pooling_model(3, gen), o, {seen});
    strategy.train(data::make_experience(0, ds, range(0, 10)));
    const std::vector<int64_t> memory = strategy.replay_memory().labels();
    REQUIRE(memory.size() == 10);
    // N = 7, rm_sz = 10, mb = 4: (7 + 10) // 4 = 4, cur = 1, rep = 3, 7 iterations; rows
    // [0,3) [3,6) [6,9) [9,10), then none (each new image alone) or, wrapped, [0,2) ...
    seen->rows.clear();
    strategy.train(data::make_experience(1, ds, range(10, 17)));
    REQUIRE(seen->rows.size() == 7);
    for (size_t it = 0; it < 7; ++it) {
      std::vector<int64_t> want;
      for (size_t r = 3 * it; r < 3 * it + 3 && (wrap || r < 10); ++r) want.push_back(memory[r % 10]);
      CHECK(seen->rows[it] == want);
    }
  }
}

TEST_CASE("ar1 freezes the layers below freeze_below_layer and applies the BatchReNorm schedule") {
  Generator gen(2);
  const nn::MobileNetConfig mc = small_mobilenet();
  auto model = std::make_shared<nn::MobileNetV1>(mc, gen, nn::WeightInit::kaiming_normal_relu);
  const auto ds = noise_images(16, gen);

  for (bool freeze_norm : {false, true}) {
    CAPTURE(freeze_norm);
    auto m = std::make_shared<nn::MobileNetV1>(mc, gen, nn::WeightInit::kaiming_normal_relu);
    AR1Options o = small_mobilenet_options();
    o.freeze_norm = freeze_norm;
    AR1 strategy(m, o);
    strategy.train(data::make_experience(0, ds, range(0, 8)));
    for (auto& [name, p] : m->named_parameters()) {
      const std::string param = name;  // clang 14 cannot capture a binding in CHECK_MESSAGE
      CHECK_MESSAGE(p.requires_grad(), param);
    }
    const Tensor conv0 = m->named_parameters()[0].second.clone();
    strategy.train(data::make_experience(1, ds, range(8, 16)));
    bool reached = false;
    for (auto& [name, p] : m->named_parameters()) {
      reached = reached || name.rfind("lat_features.19.bn.", 0) == 0;
      const bool norm = name.find(".bn.") != std::string::npos;
      const bool expect_trainable = reached || (norm && !freeze_norm);
      const std::string param = name;  // clang 14 cannot capture a binding in CHECK_MESSAGE
      CHECK_MESSAGE(p.requires_grad() == expect_trainable, param);
    }
    CHECK(m->named_parameters()[0].first == "lat_features.0.conv.weight");
    CHECK(m->named_parameters()[0].second.to_vector<float>() == conv0.to_vector<float>());
    for (auto& [name, bn] : nn::batch_renorm_layers(*m)) {
      CHECK(bn->momentum() == o.inc_update_rate);
      CHECK(bn->r_max() == o.max_r_max);
      CHECK(bn->d_max() == o.max_d_max);
      CHECK(bn->r_d_inc() == 0.0);
    }
  }
  (void)model;
}

TEST_CASE("ar1 recalibrate_norm ends every experience with the memory's statistics above the latent layer") {
  const nn::MobileNetConfig mc = small_mobilenet();
  Generator data_gen(5);
  const auto ds = noise_images(24, data_gen);
  // end_features' running statistics, in layer order.
  const auto statistics = [](nn::MobileNetV1& m) {
    std::vector<float> all;
    for (auto& [name, bn] : nn::batch_renorm_layers(*m.end_features())) {
      for (const Tensor* t : {&bn->running_mean(), &bn->running_std()}) {
        const auto v = t->to_vector<float>();
        all.insert(all.end(), v.begin(), v.end());
      }
    }
    return all;
  };
  for (const bool recalibrate : {false, true}) {
    CAPTURE(recalibrate);
    Generator gen(6);
    auto m = std::make_shared<nn::MobileNetV1>(mc, gen, nn::WeightInit::kaiming_normal_relu);
    AR1Options o = small_mobilenet_options();
    o.recalibrate_norm = recalibrate;
    AR1 strategy(m, o);
    for (int64_t e = 0; e < 3; ++e) {
      strategy.train(data::make_experience(e, ds, range(8 * e, 8 * e + 8)));
      // Recalibrating once more on the memory changes nothing (but rounding: running +
      // 1 * (batch - running)) exactly when the run did.
      const std::vector<float> after_training = statistics(*m);
      LatentReplayMemory& memory = strategy.replay_memory();
      recalibrate_batch_renorm(*m->end_features(), memory.rows(0, memory.size()).first);
      const std::vector<float> again = statistics(*m);
      REQUIRE(again.size() == after_training.size());
      double largest = 0;
      for (size_t i = 0; i < again.size(); ++i) {
        largest = std::max<double>(largest, std::abs(again[i] - after_training[i]) /
                                                (std::abs(again[i]) + 1e-3));
      }
      CHECK((largest < 1e-4) == recalibrate);
    }
  }
}

TEST_CASE("ar1 rejects a freeze_below_layer that names no layer and a mismatched split") {
  Generator gen(3);
  AR1Options o = tiny_options();
  o.freeze_below_layer = "lat_features.99.bn";
  CHECK_THROWS_WITH_AS(AR1(pooling_model(3, gen), o), doctest::Contains("names no layer"), Error);
  o = tiny_options();
  o.latent_layer_num = 5;
  CHECK_THROWS_WITH_AS(AR1(pooling_model(3, gen), o), doctest::Contains("latent_layer_num"), Error);
}

TEST_CASE("ar1 with ewc_lambda runs synaptic intelligence on the trainable non-output weights") {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 24; ++i) labels.push_back(i % 3);
  const auto ds = label_images(labels, 3);
  Generator gen(4);
  AR1Options o = tiny_options();
  o.ewc_lambda = 10.0;
  AR1 strategy(pooling_model(3, gen), o);
  REQUIRE(strategy.si_plugin() != nullptr);
  strategy.train(data::make_experience(0, ds, range(0, 12)));
  SynapticIntelligence* si = strategy.si_plugin()->si();
  REQUIRE(si != nullptr);
  // Only end_features.0.conv.weight takes part: output.weight and normalisation are left out.
  REQUIRE(si->importance().size() == 1);
  double total = 0;
  for (float v : si->importance()[0].to_vector<float>()) total += std::abs(v);
  CHECK(total > 0.0);  // the first experience's trajectory gave the weights an importance
  // The penalty is zero right after an experience (theta == theta*) and grows once the
  // weights move in the next one.
  CHECK(si->penalty().item() == 0.f);
  struct Penalties : Plugin {
    SynapticIntelligence* si = nullptr;
    std::vector<float> values;
    void after_update(SupervisedTemplate&) override { values.push_back(si->penalty().item()); }
  };
  auto penalties = std::make_shared<Penalties>();
  penalties->si = si;
  AR1 probe(pooling_model(3, gen), o, {penalties});
  probe.train(data::make_experience(0, ds, range(0, 12)));
  penalties->si = probe.si_plugin()->si();
  penalties->values.clear();
  probe.train(data::make_experience(1, ds, range(12, 24)));
  REQUIRE_FALSE(penalties->values.empty());
  CHECK(penalties->values.back() != 0.f);  // importances may be negative (SPEC: min(-cum, cap))
}

TEST_CASE("ar1 latent cache reuses the frozen layers' activations and changes no result") {
  // MobileNetV1 with lat_features frozen below layer 19 (freeze_norm) from the second
  // experience on; the same batches every epoch (shuffle off), so recomputing the frozen
  // layers gives the very values the cache keeps: everything must match bit for bit.
  const nn::MobileNetConfig mc = small_mobilenet();
  Generator data_gen(4);
  const auto ds = noise_images(24, data_gen);

  struct Outcome {
    std::vector<std::vector<float>> params;
    std::vector<float> memory;
    int64_t hits = 0, misses = 0;
  };
  auto run = [&](bool cache, data::Pipeline pipeline) {
    Generator gen(3);
    auto m = std::make_shared<nn::MobileNetV1>(mc, gen, nn::WeightInit::kaiming_normal_relu);
    AR1Options o;
    o.train_mb_size = 6;
    o.rm_sz = 6;
    o.train_epochs = 3;
    o.freeze_norm = true;
    o.shuffle = false;
    o.latent_cache = cache;
    o.train_pipeline = o.eval_pipeline = pipeline;
    AR1 strategy(m, o);
    strategy.train(data::make_experience(0, ds, range(0, 8)));
    strategy.train(data::make_experience(1, ds, range(8, 16)));
    strategy.train(data::make_experience(2, ds, range(16, 24)));
    Outcome out;
    for (auto& [name, p] : m->named_parameters()) out.params.push_back(p.to_vector<float>());
    out.memory = strategy.replay_memory().rows(0, strategy.replay_memory().size()).first
                     .to_vector<float>();
    out.hits = strategy.latent_cache().hits();
    out.misses = strategy.latent_cache().misses();
    return out;
  };
  const data::Pipeline plain = data::standard_pipeline(32);
  const Outcome with = run(true, plain), without = run(false, plain);
  // Experiences 1 and 2: 8 images computed in the first epoch, served in the other two.
  CHECK(with.misses == 2 * 8);
  CHECK(with.hits == 2 * 2 * 8);
  CHECK(without.hits == 0);
  CHECK(with.params == without.params);
  CHECK(with.memory == without.memory);

  // A random augmentation changes the images between epochs: no caching then.
  data::Pipeline flipping = plain;
  flipping.then(data::random_horizontal_flip());
  const Outcome random = run(true, flipping);
  CHECK(random.hits == 0);
  CHECK(random.misses == 0);
}

TEST_CASE("ar1 evaluation latent cache gives the same metrics with and without it") {
  // Evaluation after every experience on a test set and the training set: from the second
  // experience on lat_features is frozen below layer 19, so the cached latents must give the
  // very metrics (bit for bit) that recomputing them gives.
  const nn::MobileNetConfig mc = small_mobilenet();
  Generator data_gen(5);
  const auto ds = noise_images(24, data_gen);
  const auto test = noise_images(12, data_gen);
  const std::vector<data::Experience> streams{data::make_experience(0, test, range(0, 12)),
                                              data::make_experience(1, ds, range(0, 24))};
  auto run = [&](bool cache) {
    Generator gen(3);
    auto m = std::make_shared<nn::MobileNetV1>(mc, gen, nn::WeightInit::kaiming_normal_relu);
    AR1Options o = small_mobilenet_options();
    o.eval_latent_cache = cache;
    o.freeze_norm = true;  // a frozen prefix of lat_features from experience 1 on
    AR1 strategy(m, o);
    std::vector<std::map<std::string, double>> metrics;
    int64_t hits_after_second = 0;
    for (int64_t e = 0; e < 3; ++e) {
      strategy.train(data::make_experience(e, ds, range(8 * e, 8 * e + 8)));
      metrics.push_back(strategy.eval(streams));
      metrics.push_back(strategy.eval(streams));  // a second evaluation at the same point
      if (e == 1) hits_after_second = strategy.eval_latent_cache().hits();
    }
    return std::tuple{metrics, strategy.eval_latent_cache().hits(), hits_after_second};
  };
  const auto [with, hits, hits_at_1] = run(true);
  const auto [without, no_hits, unused] = run(false);
  REQUIRE(with.size() == without.size());
  for (size_t i = 0; i < with.size(); ++i) {
    CAPTURE(i);
    for (const auto& [name, value] : without[i]) {
      if (name.rfind("Time_", 0) == 0 || name.rfind("MaxRAM", 0) == 0) continue;
      const std::string metric = name;  // clang 14 cannot capture a binding in CAPTURE
      CAPTURE(metric);
      CHECK(with[i].at(name) == value);
    }
  }
  CHECK(no_hits == 0);
  // Experience 1: both streams computed once (36 images), served in the second evaluation;
  // experience 2 serves every image of its two evaluations.
  CHECK(hits_at_1 == 36);
  CHECK(hits == 36 + 2 * 36);
}
