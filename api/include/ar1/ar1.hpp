// ar1 for C++: a header-only wrapper over the C API (ar1.h) that owns the strategy and turns
// every failed status into ar1::ApiError. Needs only ar1.h and the standard library, so it
// shares the C API's stable ABI; the threading rules are ar1.h's.
//
//   ar1::Strategy s(R"({"num_classes": 10, "image_size": 32})");
//   s.train(ar1::Images::u8_hwc(pixels.data(), n, 28, 28, 1), labels);
//   std::vector<ar1::Prediction> top = s.predict_topk(ar1::Images::u8_hwc(...), 3);
//   s.save("model.safetensors");
//   ar1::Strategy again = ar1::Strategy::load("model.safetensors");
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ar1/ar1.h"

namespace ar1 {

class ApiError : public std::runtime_error {
 public:
  ApiError(ar1_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  ar1_status status() const { return status_; }

 private:
  ar1_status status_;
};

inline void check(ar1_status status) {
  if (status != AR1_OK) throw ApiError(status, ar1_last_error());
}

// A borrowed batch of images (see ar1_images).
struct Images {
  ar1_images batch;

  static Images u8_hwc(const uint8_t* pixels, int64_t count, int64_t height, int64_t width,
                       int64_t channels) {
    return {{pixels, AR1_U8_HWC, count, height, width, channels}};
  }
  static Images f32_chw(const float* values, int64_t count, int64_t channels, int64_t height,
                        int64_t width) {
    return {{values, AR1_F32_CHW, count, height, width, channels}};
  }
  int64_t count() const { return batch.count; }
};

struct Prediction {
  std::vector<int32_t> classes;      // best first
  std::vector<float> probabilities;  // of each class in `classes`
};

struct Evaluation {
  double accuracy = 0;
  double loss = 0;
};

class Strategy {
 public:
  // config_json: see ar1.h ("num_classes" and any `ar1 train` option).
  explicit Strategy(const std::string& config_json) { check(ar1_create(config_json.c_str(), &s_)); }
  static Strategy load(const std::string& path) {
    ar1_strategy* s = nullptr;
    check(ar1_load(path.c_str(), &s));
    return Strategy(s);
  }
  ~Strategy() { ar1_destroy(s_); }
  Strategy(Strategy&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
  Strategy& operator=(Strategy&& other) noexcept {
    std::swap(s_, other.s_);
    return *this;
  }
  Strategy(const Strategy&) = delete;
  Strategy& operator=(const Strategy&) = delete;

  void train(const Images& images, const std::vector<int32_t>& labels) {
    require_labels(images, labels);
    check(ar1_train(s_, &images.batch, labels.data()));
  }
  // Borrowed arrays (a numpy buffer, say): labels holds images.count() entries, logits
  // images.count() * num_classes().
  void train(const Images& images, const int32_t* labels) {
    check(ar1_train(s_, &images.batch, labels));
  }
  Evaluation evaluate(const Images& images, const int32_t* labels) {
    Evaluation e;
    check(ar1_evaluate(s_, &images.batch, labels, &e.accuracy, &e.loss));
    return e;
  }
  void predict_logits(const Images& images, float* logits) {
    check(ar1_predict_logits(s_, &images.batch, logits));
  }
  void predict_topk(const Images& images, int32_t k, int32_t* classes, float* probabilities) {
    check(ar1_predict_topk(s_, &images.batch, k, classes, probabilities));
  }

  // [count * num_classes], row i for image i.
  std::vector<float> predict_logits(const Images& images) {
    std::vector<float> logits(static_cast<size_t>(std::max<int64_t>(images.count(), 0) * num_classes()));
    check(ar1_predict_logits(s_, &images.batch, logits.data()));
    return logits;
  }
  std::vector<Prediction> predict_topk(const Images& images, int32_t k) {
    const size_t n = static_cast<size_t>(std::max<int64_t>(images.count(), 0));
    const size_t kk = static_cast<size_t>(std::max<int32_t>(k, 0));
    std::vector<int32_t> classes(n * kk);
    std::vector<float> probabilities(n * kk);
    check(ar1_predict_topk(s_, &images.batch, k, classes.data(), probabilities.data()));
    std::vector<Prediction> out(n);
    for (size_t i = 0; i < n; ++i) {
      out[i].classes.assign(classes.begin() + i * kk, classes.begin() + (i + 1) * kk);
      out[i].probabilities.assign(probabilities.begin() + i * kk,
                                  probabilities.begin() + (i + 1) * kk);
    }
    return out;
  }
  Evaluation evaluate(const Images& images, const std::vector<int32_t>& labels) {
    require_labels(images, labels);
    Evaluation e;
    check(ar1_evaluate(s_, &images.batch, labels.data(), &e.accuracy, &e.loss));
    return e;
  }
  void save(const std::string& path) { check(ar1_save(s_, path.c_str())); }

  int64_t num_classes() const {
    int64_t n = 0;
    check(ar1_num_classes(s_, &n));
    return n;
  }
  int64_t experiences_trained() const {
    int64_t n = 0;
    check(ar1_experiences_trained(s_, &n));
    return n;
  }
  ar1_strategy* handle() { return s_; }

 private:
  explicit Strategy(ar1_strategy* s) : s_(s) {}
  static void require_labels(const Images& images, const std::vector<int32_t>& labels) {
    if (static_cast<int64_t>(labels.size()) != images.count()) {
      throw ApiError(AR1_ERROR_INVALID_ARGUMENT,
                     "[ar1] " + std::to_string(labels.size()) + " labels for " +
                         std::to_string(images.count()) + " images: pass one label per image");
    }
  }

  ar1_strategy* s_ = nullptr;
};

// A dataset + scenario as `ar1 train` builds it (see ar1_benchmark_create).
class Benchmark {
 public:
  struct Shape {
    int64_t count = 0, height = 0, width = 0, channels = 0;
  };

  explicit Benchmark(const std::string& config_json) {
    check(ar1_benchmark_create(config_json.c_str(), &b_));
  }
  ~Benchmark() { ar1_benchmark_destroy(b_); }
  Benchmark(Benchmark&& other) noexcept : b_(std::exchange(other.b_, nullptr)) {}
  Benchmark& operator=(Benchmark&& other) noexcept {
    std::swap(b_, other.b_);
    return *this;
  }
  Benchmark(const Benchmark&) = delete;
  Benchmark& operator=(const Benchmark&) = delete;

  int64_t num_classes() const {
    int64_t n = 0;
    check(ar1_benchmark_num_classes(b_, &n));
    return n;
  }
  int64_t num_experiences(ar1_stream stream) const {
    int64_t n = 0;
    check(ar1_benchmark_num_experiences(b_, stream, &n));
    return n;
  }
  Shape shape(ar1_stream stream, int64_t k) const {
    Shape s;
    check(ar1_benchmark_experience_shape(b_, stream, k, &s.count, &s.height, &s.width, &s.channels));
    return s;
  }
  // pixels: count * height * width * channels bytes; labels: count entries (either may be null).
  void copy(ar1_stream stream, int64_t k, uint8_t* pixels, int32_t* labels) const {
    check(ar1_benchmark_experience(b_, stream, k, pixels, labels));
  }

 private:
  ar1_benchmark* b_ = nullptr;
};

}  // namespace ar1
