#pragma once
// Seeded random numbers that are bit-identical for the same seed on every run and machine:
// xoshiro256** seeded through splitmix64, and our own float conversions (std:: distributions
// are implementation-defined, so they are not used). Generators are passed explicitly; there
// is no global RNG.
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace ar1 {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { seed_with(seed); }
  void seed_with(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits (every value exactly representable in f32).
  float next_float();
  // Uniform integer in [0, bound), unbiased (Lemire's method with rejection).
  uint64_t next_below(uint64_t bound);
  // Standard normal (Box-Muller on doubles; the second value is cached).
  double next_normal();

  // The whole state, for checkpoints: restoring it continues the same sequence.
  using State = std::array<uint64_t, 6>;
  State state() const;
  void set_state(const State& s);

 private:
  std::array<uint64_t, 4> s_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// f32 tensors filled from `gen`, in row-major order.
Tensor uniform(const Shape& shape, Generator& gen, float low = 0.f, float high = 1.f);
Tensor normal(const Shape& shape, Generator& gen, float mean = 0.f, float stddev = 1.f);

// Kaiming (He) initialisation of a weight [out, in / groups, kh, kw] or [out, in].
// fan_in = in/groups * kh * kw, fan_out = out * kh * kw.
enum class FanMode { fan_in, fan_out };
// normal with std = gain / sqrt(fan); gain sqrt(2) suits ReLU (SPEC.md section 3c).
Tensor kaiming_normal(const Shape& shape, Generator& gen, FanMode mode, double gain);
// uniform in +-gain * sqrt(3 / fan); PyTorch's default conv/linear init is gain sqrt(1/3)
// with fan_in (kaiming_uniform with a = sqrt(5)).
Tensor kaiming_uniform(const Shape& shape, Generator& gen, FanMode mode, double gain);

// A random permutation of 0..n-1 (Fisher-Yates).
std::vector<int64_t> randperm(int64_t n, Generator& gen);

}  // namespace ar1
