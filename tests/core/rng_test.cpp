#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/rng.h"

using namespace ar1;

namespace {
bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), static_cast<size_t>(a.numel()) * 4) == 0;
}
}  // namespace

TEST_CASE("rng same seed gives bit-identical tensors and permutations") {
  Generator a(42), b(42), c(43);
  CHECK(bit_identical(normal({1000}, a), normal({1000}, b)));
  CHECK(bit_identical(uniform({77}, a, -1, 1), uniform({77}, b, -1, 1)));
  CHECK(bit_identical(kaiming_normal({8, 4, 3, 3}, a, FanMode::fan_out, std::sqrt(2.0)),
                      kaiming_normal({8, 4, 3, 3}, b, FanMode::fan_out, std::sqrt(2.0))));
  CHECK(randperm(100, a) == randperm(100, b));
  CHECK_FALSE(bit_identical(normal({16}, a), normal({16}, c)));
}

TEST_CASE("rng first values are pinned so any change to the generator is noticed") {
  // Fixed outputs of xoshiro256** seeded by splitmix64(0): a regression guard for
  // reproducibility across versions (checkpoints store and restore this state).
  Generator g(0);
  const uint64_t first = g.next_u64();
  Generator again(0);
  CHECK(again.next_u64() == first);
  CHECK(first == 0x99ec5f36cb75f2b4ull);
}

TEST_CASE("rng state save and restore continues the same sequence") {
  Generator g(5);
  normal({3}, g);  // leaves a cached Box-Muller spare
  const Generator::State s = g.state();
  const Tensor expect = normal({9}, g);
  Generator h(999);
  h.set_state(s);
  CHECK(bit_identical(normal({9}, h), expect));
}

TEST_CASE("rng distributions have the right moments and ranges") {
  Generator g(1);
  const std::vector<float> n = normal({20000}, g, 1.f, 2.f).to_vector<float>();
  double m = 0, v = 0;
  for (float x : n) m += x;
  m /= n.size();
  for (float x : n) v += (x - m) * (x - m);
  v /= n.size();
  CHECK(m == doctest::Approx(1.0).epsilon(0.05));
  CHECK(std::sqrt(v) == doctest::Approx(2.0).epsilon(0.03));
  const std::vector<float> u = uniform({5000}, g, -3.f, 5.f).to_vector<float>();
  CHECK(*std::min_element(u.begin(), u.end()) >= -3.f);
  CHECK(*std::max_element(u.begin(), u.end()) < 5.f);
  // Kaiming uniform with PyTorch's default gain sqrt(1/3): bound = 1 / sqrt(fan_in) = 1/6.
  const std::vector<float> k =
      kaiming_uniform({4, 4, 3, 3}, g, FanMode::fan_in, std::sqrt(1.0 / 3.0)).to_vector<float>();
  for (float x : k) CHECK(std::abs(x) <= 1.f / 6.f + 1e-7f);
  std::vector<int64_t> p = randperm(50, g);
  std::sort(p.begin(), p.end());
  for (int64_t i = 0; i < 50; ++i) CHECK(p[static_cast<size_t>(i)] == i);
}
