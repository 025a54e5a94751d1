// ar1.hpp, the header-only C++ wrapper: statuses become ar1::ApiError, the handle is owned.
#include "ar1/ar1.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "tests/api/synthetic_objects.h"

using ar1::testing::kObjectSide;
using ar1::testing::synthetic_objects;

TEST_CASE("the C++ wrapper throws ApiError with the status and the message") {
  try {
    ar1::Strategy s(R"({"num_classes": 3, "lr": "fast"})");
    FAIL("no exception");
  } catch (const ar1::ApiError& e) {
    CHECK(e.status() == AR1_ERROR_CONFIG);
    CHECK(std::string(e.what()).find("lr") != std::string::npos);
  }
  ar1::Strategy s(R"({"num_classes": 3, "image_size": 16, "alpha": 0.25, "first_epochs": 1,
                      "train_epochs": 1, "rm_sz": 8})");
  const auto b = synthetic_objects({0, 1, 2}, 4);
  const auto images = ar1::Images::u8_hwc(b.pixels.data(), b.count, kObjectSide, kObjectSide, 3);
  CHECK_THROWS_WITH_AS(s.train(images, {0, 1}), "[ar1] 2 labels for 12 images: pass one label per image",
                       ar1::ApiError);
  s.train(images, b.labels);
  CHECK(s.experiences_trained() == 1);
  CHECK(s.predict_logits(images).size() == 36);
  const auto top = s.predict_topk(images, 3);
  REQUIRE(top.size() == 12);
  CHECK(top[0].classes.size() == 3);
  CHECK(top[0].probabilities[0] >= top[0].probabilities[2]);
  const ar1::Evaluation e = s.evaluate(images, b.labels);
  CHECK(e.accuracy >= 0.0);
  CHECK(e.loss > 0.0);

  ar1::Strategy moved = std::move(s);
  CHECK(moved.num_classes() == 3);
  CHECK_THROWS_AS(s.num_classes(), ar1::ApiError);  // the moved-from handle is empty
  CHECK_THROWS_AS(ar1::Strategy::load("/nonexistent/model.safetensors"), ar1::ApiError);
}
