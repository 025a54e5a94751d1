#pragma once
// The harness of tests/cuda/ (in the spirit of ggml's test-backend-ops): every op runs on the
// GPU and on the CPU on the same inputs, and the outputs are compared. GPU outputs are written
// into the middle of a buffer whose guard zones hold a sentinel, so a kernel that writes out of
// bounds is caught; the middle starts as NaN, so an element a kernel forgets to write is too.
//
// Tolerances (max |gpu - cpu| <= tol (1 + max |cpu|)): kExact for ops without a multiply-add
// (copies, ReLU, single adds and products, pooling sums in the CPU's order); kElementwise where
// nvcc contracts a * b + c into one FMA (one rounding less than the CPU); kReduction for sums
// in another order and for cuDNN/cuBLAS, which order their fp32 sums their own way. Equal
// values (infinities included) always match; the scale is the largest finite CPU value.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "kernels/device.h"
#include "tests/support/skip_test.h"

namespace ar1::testing {

inline constexpr double kExact = 0.0;
inline constexpr double kElementwise = 1e-6;
inline constexpr double kReduction = 1e-4;

inline const Device kGpu = Device::cuda(0);

// Every case in tests/cuda/ starts with this: Skipped (exit 77) on a machine without a GPU.
inline void require_gpu() {
  if (kernels::cuda_device_count() == 0) {
    skip_test(kernels::built_with_cuda() ? "no CUDA GPU on this machine"
                                         : "this build has no CUDA backend");
  }
}

inline std::vector<float> random_values(int64_t n, uint64_t seed, float scale = 1.f) {
  Generator gen(seed);
  std::vector<float> v = normal({n}, gen).to_vector<float>();
  for (float& x : v) x *= scale;
  return v;
}

// An input: host values and the same values on the GPU.
class Input {
 public:
  explicit Input(std::vector<float> values)
      : host_(std::move(values)),
        dev_(Tensor::from_vector(host_, {static_cast<int64_t>(host_.size())}).to(kGpu)) {}
  Input(int64_t n, uint64_t seed, float scale = 1.f) : Input(random_values(n, seed, scale)) {}
  const float* cpu() const { return host_.data(); }
  const float* gpu() const { return static_cast<const float*>(dev_.raw_data()); }
  const std::vector<float>& host() const { return host_; }

 private:
  std::vector<float> host_;
  Tensor dev_;
};

// Raw host bytes (labels, row indices, f64 weights, u8/f16 rows) and their GPU copy.
class RawInput {
 public:
  template <class T>
  explicit RawInput(const std::vector<T>& values)
      : bytes_(values.size() * sizeof(T)),
        host_(Tensor::empty({static_cast<int64_t>((bytes_ + 7) / 8)}, DType::i64)) {
    std::memcpy(host_.raw_data(), values.data(), bytes_);
    dev_ = host_.to(kGpu);
  }
  const void* cpu() const { return host_.raw_data(); }
  const void* gpu() const { return dev_.raw_data(); }

 private:
  size_t bytes_;
  Tensor host_, dev_;
};

// An output of n floats on both sides; the GPU side sits between guard zones.
class Output {
 public:
  static constexpr int64_t kGuard = 64;
  static constexpr float kSentinel = -12345.5f;

  explicit Output(int64_t n, const std::vector<float>& initial = {})
      : n_(n), host_(initial.empty() ? std::vector<float>(static_cast<size_t>(n), 0.f) : initial) {
    std::vector<float> dev(static_cast<size_t>(n + 2 * kGuard), kSentinel);
    for (int64_t i = 0; i < n; ++i) {
      dev[static_cast<size_t>(kGuard + i)] =
          initial.empty() ? std::numeric_limits<float>::quiet_NaN() : initial[static_cast<size_t>(i)];
    }
    dev_ = Tensor::from_vector(dev, {n + 2 * kGuard}).to(kGpu);
  }
  float* cpu() { return host_.data(); }
  float* gpu() { return static_cast<float*>(dev_.raw_data()) + kGuard; }

  // Compares the GPU result with the CPU's and checks the guard zones.
  void check(const std::string& what, double tol) const {
    const std::vector<float> all = dev_.to_vector<float>();
    int64_t overwritten = 0;
    for (int64_t i = 0; i < kGuard; ++i) {
      overwritten += all[static_cast<size_t>(i)] != kSentinel;
      overwritten += all[static_cast<size_t>(kGuard + n_ + i)] != kSentinel;
    }
    CHECK_MESSAGE(overwritten == 0, what, ": the kernel wrote ", overwritten,
                  " elements outside its output");
    double diff = 0, scale = 0;
    int64_t bad = 0;
    for (int64_t i = 0; i < n_; ++i) {
      const double g = all[static_cast<size_t>(kGuard + i)], c = host_[static_cast<size_t>(i)];
      if (std::isnan(g) != std::isnan(c)) ++bad;
      if (g == c || std::isnan(g) || std::isnan(c)) continue;  // equal (infinities too)
      diff = std::max(diff, std::abs(g - c));
      if (std::isfinite(c)) scale = std::max(scale, std::abs(c));
    }
    CHECK_MESSAGE(bad == 0, what, ": ", bad, " elements NaN on one side only (unwritten?)");
    CHECK_MESSAGE(diff <= tol * (1.0 + scale), what, ": max |gpu - cpu| ", diff, ", max |cpu| ",
                  scale, ", tolerance ", tol);
  }

 private:
  int64_t n_;
  std::vector<float> host_;
  Tensor dev_;
};

// Tensor-level comparison: the GPU tensor's values against the CPU tensor's.
inline void check_tensors(const std::string& what, const Tensor& gpu, const Tensor& cpu,
                          double tol) {
  REQUIRE(gpu.defined());
  REQUIRE(cpu.defined());
  CHECK(gpu.device() == kGpu);
  REQUIRE(gpu.shape() == cpu.shape());
  const std::vector<float> g = gpu.to(DType::f32).to_vector<float>();
  const std::vector<float> c = cpu.to(DType::f32).to_vector<float>();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (g[i] == c[i]) continue;  // equal, infinities (f16 overflow) too
    diff = std::max(diff, std::abs(double(g[i]) - c[i]));  // inf or NaN: fails below
    if (std::isfinite(c[i])) scale = std::max(scale, std::abs(double(c[i])));
  }
  CHECK_MESSAGE(diff <= tol * (1.0 + scale), what, ": max |gpu - cpu| ", diff, ", max |cpu| ",
                scale, ", tolerance ", tol);
}

}  // namespace ar1::testing
