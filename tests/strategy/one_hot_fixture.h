#pragma once
// A model and data whose outputs are known, shared by the metrics, loggers and template tests:
// images are one pixel row with 255 at one position ("shown") and 0 elsewhere, and the model
// is Flatten -> Linear(3, 3) without bias, its weight set by hand (identity: the logits are
// one-hot at `shown`; zero: every logit is 0). Learning rate 0, so nothing moves in training.
#include <memory>
#include <vector>

#include "data/dataset.h"
#include "nn/modules/all.h"
#include "strategy/template.h"

namespace ar1::testing {

constexpr int64_t kClasses = 3;

struct Sample {
  int64_t shown;  // the pixel set to 255: the identity model predicts it
  int64_t label;
};

inline data::DatasetPtr one_hot_images(const std::vector<Sample>& samples) {
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (const Sample& s : samples) {
    for (int64_t k = 0; k < kClasses; ++k) pixels.push_back(k == s.shown ? 255 : 0);
    labels.push_back(s.label);
  }
  return std::make_shared<data::InMemoryDataset>(pixels, 1, kClasses, 1, labels, kClasses,
                                                 "one_hot_images");
}

struct TinyModel {
  std::shared_ptr<nn::Module> module;
  Tensor weight;  // [3, 3], shared with the Linear layer
  void set(bool identity) {
    for (int64_t i = 0; i < kClasses * kClasses; ++i) {
      weight.data<float>()[i] = identity && i % (kClasses + 1) == 0 ? 1.f : 0.f;
    }
  }
};

inline TinyModel tiny_model() {
  Generator gen(0);
  auto linear = std::make_shared<nn::Linear>(nn::LinearOptions{kClasses, kClasses, false}, gen);
  TinyModel m{std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
                  std::make_shared<nn::Flatten>(), linear}),
              linear->weight()};
  m.set(true);
  return m;
}

inline strategy::TemplateOptions tiny_options(int64_t mb_size, int64_t epochs, int eval_every) {
  strategy::TemplateOptions o;
  o.train_mb_size = o.eval_mb_size = mb_size;
  o.train_epochs = epochs;
  o.eval_every = eval_every;
  o.sgd.lr = 0.0;
  o.num_workers = 0;
  o.train_pipeline = o.eval_pipeline = data::Pipeline{data::scale_to_unit()};
  return o;
}

inline std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> v;
  for (int64_t i = begin; i < end; ++i) v.push_back(i);
  return v;
}

}  // namespace ar1::testing
