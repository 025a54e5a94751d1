// The C API's benchmarks (ar1_benchmark_*): the experiences `ar1 train` builds, copied out
// image for image and label for label, and every bad argument with its status.
#include "ar1/ar1.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "data/idx_reader.h"
#include "data/nc_scenario.h"
#include "tests/support/fashion_mnist.h"

namespace {

std::string config_for(const std::string& root) {
  return R"({"dataset": "fashion-mnist", "scenario": "nc", "n_experiences": 5, "run": 2,
             "train_per_class": 12, "test_per_class": 4, "num_classes": 10, "lr": 0.5,
             "data_root": ")" + root + "\"}";
}

}  // namespace

TEST_CASE("benchmark copies out the scenario's experiences as ar1 train builds them") {
  const std::string root = ar1::testing::fashion_mnist_or_skip().string();
  ar1_benchmark* b = nullptr;
  REQUIRE_MESSAGE(ar1_benchmark_create(config_for(root).c_str(), &b) == AR1_OK, ar1_last_error());
  int64_t classes = 0, train = 0, test = 0;
  CHECK(ar1_benchmark_num_classes(b, &classes) == AR1_OK);
  CHECK(ar1_benchmark_num_experiences(b, AR1_TRAIN_STREAM, &train) == AR1_OK);
  CHECK(ar1_benchmark_num_experiences(b, AR1_TEST_STREAM, &test) == AR1_OK);
  CHECK(classes == 10);
  CHECK(train == 5);
  CHECK(test == 5);

  // The same split made directly: nc over the first 12 / 4 images per class, seed = run 2.
  const auto train_set = ar1::data::take_per_class(
      ar1::data::load_mnist_folder(root, ar1::data::Split::train), 12);
  ar1::data::NcOptions o;
  o.seed = 2;
  o.n_experiences = 5;
  const ar1::data::Benchmark direct = ar1::data::nc_benchmark(
      train_set,
      ar1::data::take_per_class(ar1::data::load_mnist_folder(root, ar1::data::Split::test), 4), o);
  for (int64_t k = 0; k < train; ++k) {
    int64_t n = 0, h = 0, w = 0, c = 0;
    REQUIRE(ar1_benchmark_experience_shape(b, AR1_TRAIN_STREAM, k, &n, &h, &w, &c) == AR1_OK);
    CHECK(n == 24);
    CHECK(h == 28);
    CHECK(w == 28);
    CHECK(c == 1);
    std::vector<uint8_t> pixels(static_cast<size_t>(n * h * w * c));
    std::vector<int32_t> labels(static_cast<size_t>(n));
    REQUIRE(ar1_benchmark_experience(b, AR1_TRAIN_STREAM, k, pixels.data(), labels.data()) == AR1_OK);
    const ar1::data::Experience& e = direct.train_stream[static_cast<size_t>(k)];
    for (int64_t i = 0; i < n; ++i) {
      CHECK(labels[static_cast<size_t>(i)] == e.targets()[static_cast<size_t>(i)]);
      const ar1::data::Image im = e.dataset->image(i);
      CHECK(std::memcmp(pixels.data() + i * h * w, im.pixels.data(), im.pixels.size()) == 0);
    }
  }
  // Labels alone.
  std::vector<int32_t> labels(20);
  CHECK(ar1_benchmark_experience(b, AR1_TEST_STREAM, 4, nullptr, labels.data()) == AR1_OK);
  CHECK(labels[0] == direct.test_stream[4].targets()[0]);
  ar1_benchmark_destroy(b);
}

TEST_CASE("benchmark bad arguments give a status and a message naming the fix") {
  ar1_benchmark* b = nullptr;
  CHECK(ar1_benchmark_create("{\"dataset\": \"fashion-mnist\", \"data_root\": \"/nonexistent\"}", &b) ==
        AR1_ERROR_CONFIG);
  CHECK(std::string(ar1_last_error()).find("not found at /nonexistent") != std::string::npos);
  CHECK(ar1_benchmark_create("{\"datset\": \"mnist\"}", &b) == AR1_ERROR_CONFIG);
  CHECK(std::string(ar1_last_error()).find("dataset") != std::string::npos);
  CHECK(ar1_benchmark_create("[1]", &b) == AR1_ERROR_CONFIG);
  CHECK(ar1_benchmark_create(nullptr, &b) == AR1_ERROR_INVALID_ARGUMENT);
  CHECK(b == nullptr);
  int64_t n = 0;
  CHECK(ar1_benchmark_num_classes(nullptr, &n) == AR1_ERROR_INVALID_ARGUMENT);

  const std::string root = ar1::testing::fashion_mnist_or_skip().string();
  REQUIRE(ar1_benchmark_create(config_for(root).c_str(), &b) == AR1_OK);
  int64_t h = 0, w = 0, c = 0;
  CHECK(ar1_benchmark_experience_shape(b, AR1_TRAIN_STREAM, 5, &n, &h, &w, &c) ==
        AR1_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(ar1_last_error()).find("experience 5 does not exist: the train stream has 5") !=
        std::string::npos);
  CHECK(ar1_benchmark_num_experiences(b, 7, &n) == AR1_ERROR_INVALID_ARGUMENT);
  CHECK(ar1_benchmark_experience(b, AR1_TEST_STREAM, -1, nullptr, nullptr) == AR1_ERROR_INVALID_ARGUMENT);
  ar1_benchmark_destroy(b);
  ar1_benchmark_destroy(nullptr);
}
