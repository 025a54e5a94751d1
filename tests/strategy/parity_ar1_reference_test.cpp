// AR1 end to end against the independent PyTorch AR1 of tools/make_fixtures.py
// (ar1_reference_case; tests/fixtures/ar1_reference.safetensors, whose tensors that function
// documents): three small Fashion-MNIST experiences, alpha 0.25 MobileNetV1 at 32x32, the data
// in dataset order, and the reference's random draws (which first-epoch latents enter the
// memory, and the memory rows they go to) replayed through AR1's two choice hooks.
//
// After every experience: the output weight before and after CWR* consolidation, the
// consolidated rows and counts, the replay memory's labels, the state (every tensor after the
// last experience; before it, per output channel the squared size of each conv weight's change
// since the start), the test batch's logits, predictions and accuracy. Closeness over a tensor:
// max|a - b| <= 1e-3 * max|b| + 1e-6; labels, counts and predictions exactly.
// AR1_PARITY_VERBOSE=1 prints every comparison.
//
// A failure that starts mid-run with everything before it at ~1e-6 may be a ReLU near tie
// rather than a bug: see ReluMarginMonitor in the script, which keeps the fixture free of them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "core/io/safetensors.h"
#include "data/scenario.h"
#include "nn/models/mobilenet_v1.h"
#include "strategy/ar1.h"
#include "tests/support/pytorch_parity.h"

using namespace ar1;
using namespace ar1::strategy;

namespace {

constexpr double kTol = 1e-3;

const std::string& meta(const SafetensorsFile& f, const std::string& key) {
  const auto it = f.metadata().find(key);
  REQUIRE_MESSAGE(it != f.metadata().end(), "ar1_reference metadata has no ", key);
  return it->second;
}
double meta_num(const SafetensorsFile& f, const std::string& key) {
  return std::stod(meta(f, key));
}
int64_t meta_int(const SafetensorsFile& f, const std::string& key) {
  return std::stoll(meta(f, key));
}

// The largest relative error seen per quantity, for the closing message.
using Worst = std::map<std::string, double>;

// Checks ours against ref (tests/support/pytorch_parity.h) and records max|a - b| / max|ref|
// under `kind`.
void expect_close(Worst& worst, const std::string& kind, const std::string& what,
                  const Tensor& ours, const Tensor& ref) {
  worst[kind] = std::max(worst[kind], testing::expect_close(what, ours, ref, kTol));
}

std::vector<int64_t> i64s(const SafetensorsFile& f, const std::string& name) {
  return f.at(name).to_vector<int64_t>();
}

// Per output channel sum of (w - w0)^2, as the fixture's fingerprint.<name>: the squared size
// of what training changed.
Tensor change_norms(const Tensor& w, const Tensor& w0) {
  REQUIRE(w.shape() == w0.shape());
  const int64_t rows = w.size(0);
  const int64_t cols = w.numel() / rows;
  const auto v = w.to_vector<float>();
  const auto v0 = w0.to(DType::f32).to_vector<float>();
  std::vector<float> out(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t k = 0; k < cols; ++k) {
      const auto i = static_cast<size_t>(r * cols + k);
      const double x = double(v[i]) - double(v0[i]);
      s += x * x;
    }
    out[static_cast<size_t>(r)] = static_cast<float>(s);
  }
  return Tensor::from_vector(out, {rows});
}

// u8 [n, H, W, C] images and their labels as an in-memory dataset.
data::DatasetPtr images_of(const Tensor& pixels, const Tensor& labels, int64_t classes) {
  REQUIRE(pixels.dim() == 4);
  return std::make_shared<data::InMemoryDataset>(
      pixels.to_vector<uint8_t>(), pixels.size(1), pixels.size(2), pixels.size(3),
      labels.to_vector<int64_t>(), classes, "ar1_reference");
}

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> v;
  for (int64_t i = begin; i < end; ++i) v.push_back(i);
  return v;
}

// AR1 whose two random choices are the reference's draws for the current experience, and
// which keeps the output weight as training left it, before CWR* consolidates it.
class ReplayedAR1 final : public AR1 {
 public:
  ReplayedAR1(std::shared_ptr<nn::LatentSplitModel> model, AR1Options options,
              const SafetensorsFile& f, std::vector<std::shared_ptr<Plugin>> plugins)
      : AR1(std::move(model), std::move(options), std::move(plugins)), f_(f) {}

  Tensor output_trained;

 protected:
  std::vector<int64_t> choose_kept_positions(int64_t candidates) override {
    const auto kept = i64s(f_, prefix() + "kept_positions");
    const int64_t h = std::min(ar1_options().rm_sz / (clock().train_exp_counter + 1), candidates);
    CHECK(static_cast<int64_t>(kept.size()) == h);
    return kept;
  }
  std::vector<int64_t> choose_memory_slots(int64_t count) override {
    const auto slots = i64s(f_, prefix() + "memory_slots");
    CHECK(static_cast<int64_t>(slots.size()) == count);
    return slots;
  }
  void finish_experience() override {
    output_trained = split_model().output()->weight().clone();
    AR1::finish_experience();
  }

 private:
  std::string prefix() const { return "exp" + std::to_string(clock().train_exp_counter) + "."; }
  const SafetensorsFile& f_;
};

// The logits of every evaluation minibatch, in order.
struct EvalLogits : Plugin {
  std::vector<Tensor> parts;
  void before_eval(SupervisedTemplate&) override { parts.clear(); }
  void after_eval_forward(SupervisedTemplate& s) override { parts.push_back(s.mb_output.clone()); }
};

AR1Options options_from(const SafetensorsFile& f) {
  AR1Options o;
  o.train_mb_size = meta_int(f, "train_mb_size");
  o.eval_mb_size = 8;  // two evaluation minibatches for the 15 test images
  o.rm_sz = meta_int(f, "rm_sz");
  o.train_epochs = meta_int(f, "train_epochs");
  o.first_epochs = meta_int(f, "first_epochs");
  o.lr = meta_num(f, "lr");
  o.inc_lr = meta_num(f, "inc_lr");
  o.momentum = meta_num(f, "momentum");
  o.l2 = meta_num(f, "l2");
  o.init_update_rate = meta_num(f, "init_update_rate");
  o.inc_update_rate = meta_num(f, "inc_update_rate");
  o.inc_step = meta_num(f, "inc_step");
  o.max_r_max = meta_num(f, "max_r_max");
  o.max_d_max = meta_num(f, "max_d_max");
  o.latent_layer_num = meta_int(f, "latent_layer_num");
  o.freeze_below_layer = meta(f, "freeze_below_layer");
  o.freeze_norm = meta(f, "freeze_norm") == "True";
  o.ewc_lambda = meta_num(f, "ewc_lambda");
  REQUIRE(meta(f, "shuffle") == "False");
  o.shuffle = false;
  REQUIRE(meta(f, "pipeline") == "scale_to_unit -> grey_to_rgb");
  o.train_pipeline = o.eval_pipeline = data::Pipeline{data::scale_to_unit(), data::grey_to_rgb()};
  return o;
}

// The fixture's MobileNetV1, loaded (strictly) with every tensor named `prefix` + parameter
// name, converted to f32.
std::shared_ptr<nn::MobileNetV1> model_from(const SafetensorsFile& f, const std::string& prefix) {
  nn::MobileNetConfig cfg;
  cfg.alpha = meta_num(f, "alpha");
  cfg.num_classes = meta_int(f, "num_classes");
  cfg.latent_layer_num = meta_int(f, "latent_layer_num");
  cfg.input_size = meta_int(f, "input_size");
  Generator gen(0);
  auto net = std::make_shared<nn::MobileNetV1>(cfg, gen);
  nn::StateDict state;
  for (const auto& [name, t] : f.tensors()) {
    if (name.rfind(prefix, 0) == 0) state.emplace_back(name.substr(prefix.size()), t.to(DType::f32));
  }
  net->load_state_dict(state);  // strict: every name matches
  return net;
}

}  // namespace

TEST_CASE("parity ar1 reference run matches PyTorch") {
  const SafetensorsFile f = load_safetensors(std::string(AR1_TEST_FIXTURES) +
                                             "/ar1_reference.safetensors");
  const int64_t classes = meta_int(f, "num_classes");

  // The model, with the reference's initial weights (f16-exact values).
  auto net = model_from(f, "init.");

  // Data: experience e holds train images [bounds[e], bounds[e+1]), in dataset order.
  const auto train = images_of(f.at("train_images"), f.at("train_labels"), classes);
  const auto test = images_of(f.at("test_images"), f.at("test_labels"), classes);
  const auto bounds = i64s(f, "exp_bounds");
  const int64_t experiences = meta_int(f, "experiences");
  REQUIRE(static_cast<int64_t>(bounds.size()) == experiences + 1);
  const std::vector<data::Experience> test_stream{
      data::make_experience(0, test, range(0, test->size()))};
  const auto test_labels = i64s(f, "test_labels");

  auto logits_plugin = std::make_shared<EvalLogits>();
  ReplayedAR1 strategy(net, options_from(f), f, {logits_plugin});

  Worst worst;
  for (int64_t e = 0; e < experiences; ++e) {
    const std::string p = "exp" + std::to_string(e) + ".";
    CAPTURE(e);
    strategy.train(data::make_experience(e, train, range(bounds[e], bounds[e + 1])));

    CHECK(strategy.replay_plan().new_per_batch == meta_int(f, "exp" + std::to_string(e) +
                                                                  "_new_per_batch"));
    CHECK(strategy.replay_plan().replay_per_batch == meta_int(f, "exp" + std::to_string(e) +
                                                                     "_replay_per_batch"));
    CHECK(strategy.replay_memory().labels() == i64s(f, p + "memory_labels"));

    // CWR*: the trained rows, the consolidated ones and the counts.
    expect_close(worst, "output weight before consolidation", p + "output_trained",
                 strategy.output_trained, f.at(p + "output_trained"));
    const CwrStar& cwr = strategy.cwr_plugin().cwr();
    expect_close(worst, "CWR* consolidated weights", p + "cwr_saved", cwr.consolidated_weights(),
                 f.at(p + "cwr_saved"));
    CHECK(cwr.past_counts() == i64s(f, p + "cwr_past_j"));
    for (const auto& [name, t] : cwr.state()) {
      if (name == "cwr.cur_j") CHECK(t.to_vector<int64_t>() == i64s(f, p + "cur_j"));
    }

    // The state: every tensor the fixture holds for this experience.
    int64_t compared = 0;
    for (const auto& [name, t] : net->state_dict()) {
      const bool buffer = name.find(".running_") != std::string::npos;
      if (f.contains(p + "state." + name)) {
        expect_close(worst, buffer ? "running statistics" : "weights", p + "state." + name, t,
                     f.at(p + "state." + name));
        ++compared;
      } else if (f.contains(p + "fingerprint." + name)) {
        expect_close(worst, "conv weight change norms (experiences before the last)",
                     p + "fingerprint." + name, change_norms(t, f.at("init." + name)),
                     f.at(p + "fingerprint." + name));
        ++compared;
      }
    }
    int64_t expected = 0;
    for (const auto& [name, t] : f.tensors()) {
      expected += name.rfind(p + "state.", 0) == 0 || name.rfind(p + "fingerprint.", 0) == 0;
    }
    CHECK(compared == expected);

    // Evaluation of the test batch: logits, every prediction, accuracy.
    const auto metrics = strategy.eval(test_stream);
    const Tensor logits = Tensor::concat(logits_plugin->parts);
    expect_close(worst, "test logits", p + "logits", logits, f.at(p + "logits"));
    const auto ref_pred = i64s(f, p + "predictions");
    const auto values = logits.to_vector<float>();
    int64_t correct = 0;
    for (int64_t r = 0; r < logits.size(0); ++r) {
      const float* row = values.data() + r * classes;
      const int64_t pred = std::max_element(row, row + classes) - row;
      CHECK_MESSAGE(pred == ref_pred[static_cast<size_t>(r)], "test row ", r);
      correct += pred == test_labels[static_cast<size_t>(r)];
    }
    const double accuracy = static_cast<double>(correct) / static_cast<double>(logits.size(0));
    const double ref_accuracy = meta_num(f, "exp" + std::to_string(e) + "_accuracy");
    CHECK(std::abs(accuracy - ref_accuracy) < 1e-6);
    const auto acc = metrics.find(metric_name("Top1_Acc_Stream", true, "test_stream"));
    REQUIRE(acc != metrics.end());
    CHECK(std::abs(acc->second - ref_accuracy) < 1e-6);
    MESSAGE("experience ", e, ": test accuracy ", accuracy, " (PyTorch ", ref_accuracy, ")");
  }

  // The memory's activations after the last experience, row by row.
  LatentReplayMemory& memory = strategy.replay_memory();
  expect_close(worst, "replay memory latents", "final.memory_latents",
               memory.rows(0, memory.size()).first, f.at("final.memory_latents"));

  for (const auto& [kind, rel] : worst) {
    MESSAGE("largest relative error, ", kind, ": ", rel);
  }
}

TEST_CASE("parity ar1 reference final weights give the reference's test logits") {
  // The evaluation forward alone: the reference's state after the last experience, loaded
  // into our model, on the test batch.
  const SafetensorsFile f = load_safetensors(std::string(AR1_TEST_FIXTURES) +
                                             "/ar1_reference.safetensors");
  const int64_t classes = meta_int(f, "num_classes");
  const std::string p = "exp" + std::to_string(meta_int(f, "experiences") - 1) + ".";
  auto net = model_from(f, p + "state.");
  AR1Options o = options_from(f);
  o.eval_mb_size = 15;
  auto logits_plugin = std::make_shared<EvalLogits>();
  ReplayedAR1 strategy(net, o, f, {logits_plugin});
  const auto test = images_of(f.at("test_images"), f.at("test_labels"), classes);
  strategy.eval({data::make_experience(0, test, range(0, test->size()))});
  Worst worst;
  expect_close(worst, "test logits", p + "logits from the reference's weights",
               Tensor::concat(logits_plugin->parts), f.at(p + "logits"));
  MESSAGE("largest relative error, test logits from the reference's final weights: ",
          worst["test logits"]);
}
