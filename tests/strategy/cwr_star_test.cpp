#include <doctest/doctest.h>

#include <cmath>

#include "strategy/cwr_star.h"

using namespace ar1;
using namespace ar1::strategy;

namespace {
std::vector<float> row(const Tensor& w, int64_t c) {
  const auto all = w.to_vector<float>();
  return {all.begin() + c * 2, all.begin() + c * 2 + 2};
}
void set_row(Tensor& w, int64_t c, float a, float b) {
  w.data<float>()[c * 2] = a;
  w.data<float>()[c * 2 + 1] = b;
}
}  // namespace

TEST_CASE("cwr* consolidation over three experiences with a class seen twice") {
  // 3 classes, 2 features. Hand computation beside each step.
  CwrStar cwr(3);
  Tensor w = Tensor::full({3, 2}, 9.f);  // junk: before_experience must clear it

  // Experience 0: classes 0 and 1, 10 examples each.
  cwr.before_experience(w, {10, 10, 0});
  CHECK(w.to_vector<float>() == std::vector<float>(6, 0.f));
  set_row(w, 0, 1.f, 3.f);  // "training" result
  set_row(w, 1, 5.f, 7.f);
  cwr.after_experience(w);  // avg = (1 + 3 + 5 + 7) / 4 = 4
  CHECK(row(cwr.consolidated_weights(), 0) == std::vector<float>{-3.f, -1.f});
  CHECK(row(cwr.consolidated_weights(), 1) == std::vector<float>{1.f, 3.f});
  CHECK(cwr.past_counts() == std::vector<int64_t>{10, 10, 0});
  CHECK(row(w, 0) == std::vector<float>{-3.f, -1.f});  // evaluation weights

  // Experience 1: class 2 only (40 examples).
  cwr.before_experience(w, {0, 0, 40});
  CHECK(w.to_vector<float>() == std::vector<float>(6, 0.f));  // class 2 never consolidated
  set_row(w, 2, 2.f, 4.f);
  cwr.after_experience(w);  // avg = 3 -> saved[2] = (-1, 1)
  CHECK(row(cwr.consolidated_weights(), 2) == std::vector<float>{-1.f, 1.f});
  CHECK(row(w, 0) == std::vector<float>{-3.f, -1.f});  // untouched rows keep consolidated

  // Experience 2: class 0 again (40 examples) and class 2 (10).
  cwr.before_experience(w, {40, 0, 10});
  CHECK(row(w, 0) == std::vector<float>{-3.f, -1.f});  // consolidated rows come back
  CHECK(row(w, 1) == std::vector<float>{0.f, 0.f});    // class 1 absent: zero
  CHECK(row(w, 2) == std::vector<float>{-1.f, 1.f});
  set_row(w, 0, 1.f, 1.f);
  set_row(w, 2, 3.f, -1.f);
  cwr.after_experience(w);  // avg = (1 + 1 + 3 - 1) / 4 = 1
  // class 0: p = sqrt(10 / 40) = 0.5; w = (0, 0); saved = ((-3, -1) * 0.5 + 0) / 1.5
  CHECK(row(cwr.consolidated_weights(), 0)[0] == doctest::Approx(-1.0));
  CHECK(row(cwr.consolidated_weights(), 0)[1] == doctest::Approx(-1.0 / 3.0));
  // class 2: p = sqrt(40 / 10) = 2; w = (2, -2); saved = ((-1, 1) * 2 + (2, -2)) / 3 = (0, 0)
  CHECK(row(cwr.consolidated_weights(), 2)[0] == doctest::Approx(0.0));
  CHECK(row(cwr.consolidated_weights(), 2)[1] == doctest::Approx(0.0));
  CHECK(cwr.past_counts() == std::vector<int64_t>{50, 10, 50});
  CHECK(row(w, 1) == std::vector<float>{1.f, 3.f});  // every consolidated row loaded for eval

  CwrStar restored(3);
  restored.load_state(cwr.state());
  CHECK(restored.past_counts() == cwr.past_counts());
  CHECK(restored.consolidated_weights().to_vector<float>() ==
        cwr.consolidated_weights().to_vector<float>());
}

TEST_CASE("cwr* rejects an output weight of the wrong shape") {
  CwrStar cwr(3);
  Tensor w = Tensor::zeros({4, 2});
  CHECK_THROWS_WITH_AS(cwr.before_experience(w, {1, 1, 1}), doctest::Contains("[cwr*]"), Error);
  Tensor ok = Tensor::zeros({3, 2});
  CHECK_THROWS_AS(cwr.before_experience(ok, {1, 1}), Error);
}
