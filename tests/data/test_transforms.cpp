#include <doctest/doctest.h>

#include <set>

#include "data/transforms.h"
#include "error_text.h"
#include "fixtures.h"

using namespace ar1::data;
using namespace ar1::data::testing;

namespace {
FloatImage from_values(int64_t c, int64_t h, int64_t w, std::vector<float> v) {
  return FloatImage{c, h, w, std::move(v)};
}
}  // namespace

TEST_CASE("transforms: to_float makes CHW, scale and normalize") {
  Image img{1, 2, 3, {10, 20, 30, 40, 50, 60}};  // two pixels, RGB
  FloatImage f = to_float(img);
  CHECK(f.channels == 3);
  CHECK(f.values == std::vector<float>{10, 40, 20, 50, 30, 60});
  ar1::Generator gen(0);
  scale_to_unit().apply(f, gen);
  CHECK(f.values[1] == doctest::Approx(40.0 / 255));
  normalize().apply(f, gen);
  CHECK(f.values[0] == doctest::Approx((10.0 / 255 - 0.485) / 0.229));
  CHECK(f.values[5] == doctest::Approx((60.0 / 255 - 0.406) / 0.225));
  FloatImage grey = from_values(1, 1, 1, {0.5f});
  CHECK(has(error_of([&] { normalize().apply(grey, gen); }), "grey_to_rgb"));
}

TEST_CASE("transforms: grey_to_rgb and pad") {
  ar1::Generator gen(0);
  FloatImage f = from_values(1, 1, 2, {1, 2});
  grey_to_rgb().apply(f, gen);
  CHECK(f.channels == 3);
  CHECK(f.values == std::vector<float>{1, 2, 1, 2, 1, 2});
  FloatImage p = from_values(1, 1, 1, {5});
  pad(1, -1.f).apply(p, gen);
  CHECK(p.height == 3);
  CHECK(p.values == std::vector<float>{-1, -1, -1, -1, 5, -1, -1, -1, -1});
}

TEST_CASE("transforms: bilinear resize matches half-pixel interpolation") {
  ar1::Generator gen(0);
  FloatImage f = from_values(1, 2, 2, {0, 1, 2, 3});
  resize(4, 4).apply(f, gen);
  // PyTorch F.interpolate(mode="bilinear", align_corners=False) gives these values.
  const std::vector<float> want = {0,   0.25f, 0.75f, 1,     0.5f, 0.75f, 1.25f, 1.5f,
                                   1.5f, 1.75f, 2.25f, 2.5f, 2,    2.25f, 2.75f, 3};
  REQUIRE(f.values.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) CHECK(f.values[i] == doctest::Approx(want[i]));
  // Downsizing by 2 averages 2x2 blocks.
  FloatImage g = from_values(1, 2, 4, {0, 2, 4, 6, 10, 12, 14, 16});
  resize(1, 2).apply(g, gen);
  CHECK(g.values == std::vector<float>{6, 10});
}

TEST_CASE("transforms: random crop and flip are seeded") {
  FloatImage base = from_values(1, 4, 4, {});
  for (int i = 0; i < 16; ++i) base.values.push_back(float(i));
  Pipeline pipe{random_crop(2, 2), random_horizontal_flip(0.5f)};
  CHECK(pipe.is_random());
  std::set<std::vector<float>> seen;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    FloatImage a = base, b = base;
    ar1::Generator g1(seed), g2(seed);
    random_crop(2, 2).apply(a, g1);
    random_horizontal_flip().apply(a, g1);
    random_crop(2, 2).apply(b, g2);
    random_horizontal_flip().apply(b, g2);
    CHECK(a.values == b.values);
    CHECK(a.height == 2);
    seen.insert(a.values);
  }
  CHECK(seen.size() > 10);  // many different crops and flips
  FloatImage small = from_values(1, 1, 1, {0});
  ar1::Generator gen(0);
  CHECK(has(error_of([&] { random_crop(2, 2).apply(small, gen); }), "pad() or resize()"));
  FloatImage row = from_values(1, 1, 3, {1, 2, 3});
  random_horizontal_flip(1.f).apply(row, gen);
  CHECK(row.values == std::vector<float>{3, 2, 1});
}

TEST_CASE("transforms: the standard pipeline gives 3x32x32") {
  ar1::Generator gen(0);
  const Pipeline p = standard_pipeline(32);
  CHECK_FALSE(p.is_random());
  const FloatImage f = p(pattern_image(28, 28, 1, 5), gen);
  CHECK(f.channels == 3);
  CHECK(f.height == 32);
  CHECK(f.width == 32);
  CHECK(p.describe() == "to_float -> scale_to_unit -> grey_to_rgb -> resize(32x32) -> normalize");
}
