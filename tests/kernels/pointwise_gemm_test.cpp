// Our AVX-512 pointwise GEMM (kernels/cpu/pointwise_gemm.h) against double-precision loops, on
// shapes that reach every edge: rows not a multiple of the 14-row strips, channels not a
// multiple of the 32-column panels, k longer than one 256-deep pass, backward-weights over
// several pixel chunks (the same bits on 1, 2 and 3 threads: thread_invariance_test.cpp).
//
// Tolerance: each output is a sum of k products; float accumulation in any order stays within
// (k + 1) * 2^-24 of the sum of |terms| (the first-order bound for summation; + 1 for the bias).
// An indexing error moves an output by the size of its terms, far beyond that for k <= 9000.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "kernels/cpu/pointwise_gemm.h"
#include "tests/support/skip_test.h"

namespace {

namespace cpu = ar1::kernels::cpu;

std::vector<float> random_values(int64_t count, uint64_t seed) {
  ar1::Generator gen(seed);
  const ar1::Tensor t = ar1::normal({count}, gen);
  return std::vector<float>(t.data<float>(), t.data<float>() + count);
}

void require_avx512() {
  if (!__builtin_cpu_supports("avx512f")) {
    ar1::testing::skip_test("this CPU has no AVX-512F, which the pointwise GEMM needs");
  }
}

// C[i, j] = sum_k A(i, k) B(k, j) with A(i, k) = a[i * a_i + k * a_k], B(k, j) = b[k * b_k +
// j * b_j]; checks `got` (row-major [m, n]) against it.
void check_product(const std::vector<float>& got, const float* a, int64_t a_i, int64_t a_k,
                   const float* b, int64_t b_k, int64_t b_j, int64_t m, int64_t n, int64_t k,
                   const float* bias = nullptr, bool relu = false) {
  int64_t bad = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0, magnitude = 0;
      for (int64_t p = 0; p < k; ++p) {
        const double term = double(a[i * a_i + p * a_k]) * b[p * b_k + j * b_j];
        sum += term;
        magnitude += std::abs(term);
      }
      if (bias != nullptr) {
        sum += bias[j];
        magnitude += std::abs(bias[j]);
        if (relu) sum = std::max(sum, 0.0);
      }
      const double bound = double(k + 1) * 0x1p-24 * magnitude + 1e-30;
      if (!(std::abs(got[i * n + j] - sum) <= bound)) ++bad;
    }
  }
  CHECK(bad == 0);
}

struct Shape {
  int64_t rows, c_in, c_out;
};

const Shape kShapes[] = {{1, 3, 5}, {29, 37, 70}, {300, 300, 33}, {9000, 20, 18}, {4097, 64, 128}};

}  // namespace

TEST_CASE("pointwise gemm forward matches double-precision loops, with and without bias + ReLU") {
  require_avx512();
  for (const Shape& s : kShapes) {
    CAPTURE(s.rows);
    CAPTURE(s.c_in);
    CAPTURE(s.c_out);
    const auto x = random_values(s.rows * s.c_in, 1), w = random_values(s.c_out * s.c_in, 2);
    const auto bias = random_values(s.c_out, 3);
    std::vector<float> y(s.rows * s.c_out, NAN);
    cpu::pointwise_forward(y.data(), x.data(), w.data(), s.rows, s.c_in, s.c_out, nullptr, false);
    check_product(y, x.data(), s.c_in, 1, w.data(), 1, s.c_in, s.rows, s.c_out, s.c_in);
    cpu::pointwise_forward(y.data(), x.data(), w.data(), s.rows, s.c_in, s.c_out, bias.data(),
                           true);
    check_product(y, x.data(), s.c_in, 1, w.data(), 1, s.c_in, s.rows, s.c_out, s.c_in,
                  bias.data(), true);
  }
}

TEST_CASE("pointwise gemm backward-data matches double-precision loops") {
  require_avx512();
  for (const Shape& s : kShapes) {
    CAPTURE(s.rows);
    CAPTURE(s.c_in);
    CAPTURE(s.c_out);
    const auto dy = random_values(s.rows * s.c_out, 4), w = random_values(s.c_out * s.c_in, 5);
    std::vector<float> dx(s.rows * s.c_in, NAN);
    cpu::pointwise_backward_data(dx.data(), dy.data(), w.data(), s.rows, s.c_in, s.c_out);
    check_product(dx, dy.data(), s.c_out, 1, w.data(), s.c_in, 1, s.rows, s.c_in, s.c_out);
  }
}

TEST_CASE("pointwise gemm backward-weights matches double-precision loops") {
  require_avx512();
  for (const Shape& s : kShapes) {
    CAPTURE(s.rows);
    CAPTURE(s.c_in);
    CAPTURE(s.c_out);
    const auto dy = random_values(s.rows * s.c_out, 6), x = random_values(s.rows * s.c_in, 7);
    std::vector<float> dw(s.c_out * s.c_in, NAN);
    cpu::pointwise_backward_weights(dw.data(), dy.data(), x.data(), s.rows, s.c_in, s.c_out);
    check_product(dw, dy.data(), 1, s.c_out, x.data(), s.c_in, 1, s.c_out, s.c_in, s.rows);
  }
  std::vector<float> dw(6, NAN);
  cpu::pointwise_backward_weights(dw.data(), nullptr, nullptr, 0, 2, 3);
  CHECK(dw == std::vector<float>(6, 0.f));  // an empty batch: zeros, not what was there
}
