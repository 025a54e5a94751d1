#include "core/rng.h"

#include <bit>
#include <cmath>

#include "core/error.h"
#include "core/portable_math.h"

namespace ar1 {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Generator::seed_with(uint64_t seed) {
  uint64_t x = seed;
  for (auto& word : s_) word = splitmix64(x);
  has_spare_ = false;
  spare_ = 0.0;
}

uint64_t Generator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float Generator::next_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }

uint64_t Generator::next_below(uint64_t bound) {
  AR1_CHECK(bound > 0, "[rng] next_below needs a positive bound");
  unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next_u64()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Generator::next_normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // u1 in (0, 1] so that log(u1) is finite; 53 random bits each.
  const double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53;
  const double u2 = static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
  // Our own log, sin and cos (portable_math.h): the C library's differ between machines.
  const double radius = std::sqrt(-2.0 * portable_math::log(u1));
  const portable_math::SinCos angle = portable_math::sincos_turn(u2);
  spare_ = radius * angle.sin;
  has_spare_ = true;
  return radius * angle.cos;
}

Generator::State Generator::state() const {
  return {s_[0], s_[1], s_[2], s_[3], has_spare_ ? 1ull : 0ull, std::bit_cast<uint64_t>(spare_)};
}

void Generator::set_state(const State& s) {
  for (int i = 0; i < 4; ++i) s_[i] = s[i];
  AR1_CHECK(s_[0] | s_[1] | s_[2] | s_[3], "[rng] invalid state: all-zero xoshiro state");
  has_spare_ = s[4] != 0;
  spare_ = std::bit_cast<double>(s[5]);
}

Tensor uniform(const Shape& shape, Generator& gen, float low, float high) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = low + (high - low) * gen.next_float();
  return t;
}

Tensor normal(const Shape& shape, Generator& gen, float mean, float stddev) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    p[i] = static_cast<float>(mean + stddev * gen.next_normal());
  }
  return t;
}

namespace {
double fan_of(const Shape& shape, FanMode mode) {
  AR1_CHECK(shape.size() >= 2, "[init] kaiming needs a weight with at least 2 dims, got ",
            shape_str(shape));
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  const int64_t fan = (mode == FanMode::fan_in ? shape[1] : shape[0]) * receptive;
  AR1_CHECK(fan > 0, "[init] kaiming on an empty weight ", shape_str(shape));
  return static_cast<double>(fan);
}
}  // namespace

Tensor kaiming_normal(const Shape& shape, Generator& gen, FanMode mode, double gain) {
  return normal(shape, gen, 0.f, static_cast<float>(gain / std::sqrt(fan_of(shape, mode))));
}

Tensor kaiming_uniform(const Shape& shape, Generator& gen, FanMode mode, double gain) {
  const float bound = static_cast<float>(gain * std::sqrt(3.0 / fan_of(shape, mode)));
  return uniform(shape, gen, -bound, bound);
}

std::vector<int64_t> randperm(int64_t n, Generator& gen) {
  AR1_CHECK(n >= 0, "[randperm] n must be >= 0, got ", n);
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(i + 1)));
    std::swap(p[i], p[j]);
  }
  return p;
}

}  // namespace ar1
