// ar1 from C++ (ar1/ar1.hpp): two experiences of new classes, evaluation in between, top-3
// predictions, and a checkpoint round trip. The images are made up here: class c is a
// gradient whose direction and colour depend on c, in float CHW with values in [0, 1].
//
//   quickstart [MODEL_PATH]
#include <ar1/ar1.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

namespace {

constexpr int64_t kSide = 16;

struct Batch {
  std::vector<float> values;  // [count, 3, side, side]
  std::vector<int32_t> labels;
  ar1::Images images() const {
    return ar1::Images::f32_chw(values.data(), static_cast<int64_t>(labels.size()), 3, kSide, kSide);
  }
};

Batch make_batch(const std::vector<int32_t>& classes, int per_class, unsigned seed) {
  Batch b;
  unsigned state = seed * 2654435761u + 1u;
  for (int32_t c : classes) {
    const double angle = 0.8 * c;
    for (int i = 0; i < per_class; ++i) {
      for (int ch = 0; ch < 3; ++ch) {
        for (int64_t y = 0; y < kSide; ++y) {
          for (int64_t x = 0; x < kSide; ++x) {
            state = state * 1664525u + 1013904223u;
            const double noise = ((state >> 8) & 0xffff) / 65535.0 * 0.2 - 0.1;
            const double ramp = (std::cos(angle) * x + std::sin(angle) * y) / (2.0 * kSide) + 0.5;
            const double tint = (c + ch) % 3 == 0 ? 0.9 : 0.4;
            b.values.push_back(static_cast<float>(std::fmin(1.0, std::fmax(0.0, ramp * tint + noise))));
          }
        }
      }
      b.labels.push_back(c);
    }
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    ar1::Strategy strategy(R"({"num_classes": 6, "image_size": 16, "alpha": 0.25,
                               "first_epochs": 10, "train_epochs": 3, "rm_sz": 60,
                               "train_mb_size": 16, "seed": 1})");
    const Batch first = make_batch({0, 1, 2}, 20, 1), second = make_batch({3, 4, 5}, 20, 2);
    const Batch test = make_batch({0, 1, 2, 3, 4, 5}, 8, 3);
    strategy.train(first.images(), first.labels);
    std::printf("after experience 0: accuracy %.4f on all six classes\n",
                strategy.evaluate(test.images(), test.labels).accuracy);
    strategy.train(second.images(), second.labels);
    const ar1::Evaluation e = strategy.evaluate(test.images(), test.labels);
    std::printf("after experience 1: accuracy %.4f, loss %.4f\n", e.accuracy, e.loss);

    const auto top = strategy.predict_topk(test.images(), 3);
    std::printf("first test image (class %d): top-3", test.labels[0]);
    for (size_t k = 0; k < 3; ++k) {
      std::printf(" %d (%.2f)", top[0].classes[k], top[0].probabilities[k]);
    }
    std::printf("\n");

    if (argc > 1) {
      strategy.save(argv[1]);
      ar1::Strategy loaded = ar1::Strategy::load(argv[1]);
      const bool same = loaded.predict_logits(test.images()) == strategy.predict_logits(test.images());
      std::printf("saved to %s; the loaded model gives %s logits\n", argv[1],
                  same ? "the same" : "DIFFERENT");
      if (!same) return 1;
    }
    return 0;
  } catch (const ar1::ApiError& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
  }
}
