// The portable GEMM (kernels/cpu/portable/gemm.h) against its contract, bit for bit: a naive
// loop here computes every output as one std::fma chain over p in increasing order, and the
// whole C buffer (padding between rows included) must be memcmp-equal to it. No tolerance:
// the same bits are the spec, on every instruction set: each case runs with every vector
// instruction set this CPU runs (AVX-512, AVX2 and plain C++ on an AVX-512 machine).
//
// Shapes reach every edge of the tiles (m, n around multiples of 4, 6, 8, 16 and 32), k crosses
// the 256-deep passes, and C, A and B have strides longer than their rows. Inputs have varied
// exponents, signed zeros and denormals, so a flush or a reordering shows up as a changed bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu/portable/gemm.h"
#include "kernels/cpu/portable/vector_isa.h"
#include "tests/support/each_vector_isa.h"

namespace {

using ar1::kernels::cpu::portable::GemmDesc;
using ar1::kernels::cpu::portable::gemm;
using ar1::testing::for_each_vector_isa;

// splitmix64: a fixed, tiny generator, so the inputs are the same everywhere.
struct Bits {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

// Mostly normal numbers with exponents in [-10, 10] and either sign; 1 in 64 is -0, 1 in 64
// +0 and 1 in 64 a denormal.
float test_value(Bits& g) {
  const uint64_t r = g.next();
  const uint32_t sign = uint32_t(r >> 63) << 31, mantissa = uint32_t(r >> 8) & 0x7FFFFF;
  switch (r % 64) {
    case 0: return -0.f;
    case 1: return 0.f;
    case 2: return std::bit_cast<float>(sign | mantissa | 1u);  // exponent field 0: denormal
    default: break;
  }
  const uint32_t exponent = 127 - 10 + uint32_t((r >> 32) % 21);
  return std::bit_cast<float>(sign | (exponent << 23) | mantissa);
}

std::vector<float> test_values(size_t count, uint64_t seed) {
  Bits g{seed};
  std::vector<float> v(count);
  for (float& x : v) x = test_value(g);
  return v;
}

// The contract, written out: one fma chain per output, p increasing.
void reference_gemm(float* c, const float* a, const float* b, const GemmDesc& d) {
  for (int64_t i = 0; i < d.m; ++i) {
    for (int64_t j = 0; j < d.n; ++j) {
      float acc = d.accumulate ? c[i * d.ldc + j] : 0.f;
      for (int64_t p = 0; p < d.k; ++p) {
        const float av = d.trans_a ? a[p * d.lda + i] : a[i * d.lda + p];
        float bv = d.trans_b ? b[j * d.ldb + p] : b[p * d.ldb + j];
        if (d.b_scale != nullptr) bv = bv * d.b_scale[j];
        acc = std::fma(av, bv, acc);
      }
      if (d.bias != nullptr) {
        acc = acc + d.bias[j];
        if (d.relu) acc = std::max(acc, 0.f);
      }
      c[i * d.ldc + j] = acc;
    }
  }
}

// Runs gemm and the reference on the same inputs (strides `pad` longer than the rows, C
// pre-filled with values) and says whether the two C buffers have the same bytes.
// The epilogue a case asks for: none, the bias, or the bias and ReLU.
enum class Epilogue { none, bias, bias_relu };

bool same_bits(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, bool accumulate,
               int64_t pad = 3, Epilogue epilogue = Epilogue::none, bool scale_b = false) {
  GemmDesc d;
  d.m = m;
  d.n = n;
  d.k = k;
  d.trans_a = trans_a;
  d.trans_b = trans_b;
  d.accumulate = accumulate;
  const int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
  const int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
  d.lda = a_cols + pad;
  d.ldb = b_cols + pad;
  d.ldc = n + pad;
  const uint64_t seed = uint64_t(m * 1000003 + n * 1009 + k) * 8 + trans_a * 4 + trans_b * 2;
  const auto a = test_values(size_t(a_rows * d.lda), seed);
  const auto b = test_values(size_t(b_rows * d.ldb), seed + 1);
  auto got = test_values(size_t(m * d.ldc), seed + 2);
  auto want = got;
  // Biases of both signs around the outputs' size, so that ReLU cuts about half; exactly sized.
  std::vector<float> bias = test_values(size_t(n), seed + 3);
  if (epilogue != Epilogue::none) {
    d.bias = bias.data();
    d.relu = epilogue == Epilogue::bias_relu;
  }
  std::vector<float> scale = test_values(size_t(n), seed + 4);
  if (scale_b) d.b_scale = scale.data();
  gemm(got.data(), a.data(), b.data(), d);
  reference_gemm(want.data(), a.data(), b.data(), d);
  return std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0;
}

// Every trans combination, accumulating and not.
void check_all_modes(int64_t m, int64_t n, int64_t k) {
  CAPTURE(m);
  CAPTURE(n);
  CAPTURE(k);
  for (int mode = 0; mode < 8; ++mode) {
    const bool trans_a = mode & 1, trans_b = mode & 2, accumulate = mode & 4;
    CAPTURE(trans_a);
    CAPTURE(trans_b);
    CAPTURE(accumulate);
    CHECK(same_bits(m, n, k, trans_a, trans_b, accumulate));
  }
}

const int64_t kEdgeSizes[] = {1, 2, 5, 6, 7, 15, 16, 17, 31, 33, 100, 257};

}  // namespace

TEST_CASE("portable gemm equals the fma chain at every tile edge") {
  for_each_vector_isa([&] {
    for (const int64_t m : kEdgeSizes) {
      for (const int64_t n : kEdgeSizes) {
        for (const int64_t k : {1, 6, 17}) check_all_modes(m, n, k);
      }
    }
  });
}

TEST_CASE("portable gemm equals the fma chain across k passes") {
  for_each_vector_isa([&] {
    // 256 is the pass depth; 700 takes three passes, the last partial.
    for (const int64_t m : {1, 7, 17, 33}) {
      for (const int64_t n : {2, 15, 33}) {
        for (const int64_t k : {255, 256, 257, 700}) check_all_modes(m, n, k);
      }
    }
  });
}

TEST_CASE("portable gemm equals the fma chain across row and column blocks") {
  for_each_vector_isa([&] {
    check_all_modes(300, 40, 31);  // more rows than one A block
    check_all_modes(3, 4100, 5);   // more columns than one B block
    check_all_modes(100, 257, 300);
  });
}

TEST_CASE("portable gemm with the shortest strides reads nothing past its operands") {
  for_each_vector_isa([&] {
    // Exactly sized buffers: run under AddressSanitizer, a read past a row's end would show.
    for (const int64_t m : {5, 7, 17, 33}) {
      for (const int64_t n : {3, 17}) {
        for (const int64_t k : {7, 257}) {
          for (int mode = 0; mode < 8; ++mode) {
            CAPTURE(m);
            CAPTURE(n);
            CAPTURE(k);
            CAPTURE(mode);
            CHECK(same_bits(m, n, k, mode & 1, mode & 2, mode & 4, 0));
          }
        }
      }
    }
  });
}

TEST_CASE("portable gemm with k = 0 writes +0, or leaves C when accumulating") {
  for_each_vector_isa([&] {
    for (const int64_t m : {1, 7, 33}) {
      for (const int64_t n : {1, 16, 17}) check_all_modes(m, n, 0);
    }
    GemmDesc d;
    d.m = 2;
    d.n = 3;
    d.ldc = 4;
    std::vector<float> c(8, -1.f);
    gemm(c.data(), nullptr, nullptr, d);
    const std::vector<float> zeros{0.f, 0.f, 0.f, -1.f, 0.f, 0.f, 0.f, -1.f};
    CHECK(std::memcmp(c.data(), zeros.data(), c.size() * sizeof(float)) == 0);
    CHECK(!std::signbit(c[0]));
  });
}

TEST_CASE("portable gemm keeps denormal products and results") {
  for_each_vector_isa([&] {
    // Every product is 2^-140 x (1 .. 4), below the smallest normal (2^-126): with FTZ or DAZ
    // the result would be 0. The sums stay denormal and exact.
    const int64_t m = 7, n = 19, k = 300;
    std::vector<float> a(m * k), b(k * n);
    Bits g{42};
    for (float& x : a) x = std::ldexp(1.f + float(g.next() % 8) / 8, -70);
    for (float& x : b) x = std::ldexp(1.f + float(g.next() % 8) / 8, -70);
    GemmDesc d;
    d.m = m;
    d.n = n;
    d.k = k;
    d.lda = k;
    d.ldb = n;
    d.ldc = n;
    std::vector<float> got(m * n), want(m * n);
    gemm(got.data(), a.data(), b.data(), d);
    reference_gemm(want.data(), a.data(), b.data(), d);
    CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
    CHECK(std::fpclassify(got[0]) == FP_SUBNORMAL);
  });
}

TEST_CASE("portable gemm on row and column blocks from several threads equals one call") {
  for_each_vector_isa([&] {
    // How a threaded caller uses it: each thread takes a block of C, with its own scratch.
    const int64_t m = 150, n = 90, k = 520;
    const auto a = test_values(size_t(k * m), 7), b = test_values(size_t(n * k), 8);
    GemmDesc d;
    d.m = m;
    d.n = n;
    d.k = k;
    d.trans_a = true;
    d.trans_b = true;
    d.lda = m;
    d.ldb = k;
    d.ldc = n;
    std::vector<float> whole(m * n), blocks(m * n);
    gemm(whole.data(), a.data(), b.data(), d);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        // Thread t: rows [i0, i0 + 75) x columns [j0, j0 + 45).
        const int64_t i0 = (t / 2) * 75, j0 = (t % 2) * 45;
        GemmDesc part = d;
        part.m = 75;
        part.n = 45;
        gemm(blocks.data() + i0 * n + j0, a.data() + i0, b.data() + j0 * k, part);
      });
    }
    for (std::thread& thread : threads) thread.join();
    CHECK(std::memcmp(whole.data(), blocks.data(), whole.size() * sizeof(float)) == 0);
  });
}

TEST_CASE("portable kernels list the vector instruction sets this CPU runs and refuse another") {
  namespace portable = ar1::kernels::cpu::portable;
  const auto isas = portable::vector_isas();
  REQUIRE(!isas.empty());
  CHECK(isas.front() == portable::vector_isa());  // the widest is the default
  CHECK(isas.back() == portable::VectorIsa::scalar);  // plain C++ runs everywhere
  CHECK(std::string(portable::gemm_isa()) == portable::vector_isa_name(isas.front()));
  try {
    portable::set_vector_isa("sse1");
    FAIL("set_vector_isa accepted an unknown instruction set");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("no vector instruction set 'sse1'") != std::string::npos);
    CHECK(std::string(e.what()).find("scalar") != std::string::npos);
  }
  CHECK(portable::vector_isa() == isas.front());
}

TEST_CASE("portable gemm applies the bias and ReLU epilogue as add then max(v, 0)") {
  for_each_vector_isa([] {
    for (const int64_t m : {1, 7, 17, 100}) {
      for (const int64_t n : {1, 5, 16, 17, 33, 70}) {
        for (const int64_t k : {0, 3, 300}) {
          for (int mode = 0; mode < 16; ++mode) {
            CAPTURE(m);
            CAPTURE(n);
            CAPTURE(k);
            CAPTURE(mode);
            const auto epilogue = mode & 8 ? Epilogue::bias_relu : Epilogue::bias;
            CHECK(same_bits(m, n, k, mode & 1, mode & 2, mode & 4, 3, epilogue));
          }
        }
      }
    }
    // A NaN and -0 pass ReLU unchanged, as std::max(v, 0.f) lets them (a vector max with the
    // operands the other way round would give 0 and NaN).
    GemmDesc d;
    d.m = 1, d.n = 40, d.k = 1, d.lda = 1, d.ldb = 40, d.ldc = 40, d.relu = true;
    d.accumulate = true;  // from C = -0: fma(1, -0, -0) = -0, where +0 would give +0
    std::vector<float> a{1.f}, b(40, -0.f), bias(40, -0.f), c(40, -0.f);
    b[3] = std::nanf("");
    b[4] = -2.f;
    d.bias = bias.data();
    gemm(c.data(), a.data(), b.data(), d);
    CHECK(std::isnan(c[3]));
    CHECK(c[4] == 0.f);
    CHECK(std::signbit(c[0]));  // -0 + -0 = -0, and max(-0, 0) keeps -0
    CHECK(std::signbit(c[39]));
  });
}

TEST_CASE("portable gemm with b_scale equals scaling B's columns first") {
  // Few columns (no transposed run then), tile edges, k passes, and the bias epilogue.
  for_each_vector_isa([] {
    for (const int64_t m : {1, 9, 100}) {
      for (const int64_t n : {1, 5, 17, 33, 300}) {
        for (const int64_t k : {3, 300}) {
          for (int mode = 0; mode < 16; ++mode) {
            CAPTURE(m);
            CAPTURE(n);
            CAPTURE(k);
            CAPTURE(mode);
            const auto epilogue = mode & 8 ? Epilogue::bias_relu : Epilogue::none;
            CHECK(same_bits(m, n, k, mode & 1, mode & 2, mode & 4, 3, epilogue, true));
          }
        }
      }
    }
  });
}

TEST_CASE("portable gemm with non-temporal stores of C gives the same bits") {
  // stream_c streams the full tiles of a 64-byte aligned C with rows a multiple of 16 floats
  // apart; the other tiles (and unaligned C) store as usual. Every output must equal the chain.
  for_each_vector_isa([] {
    const int64_t m = 37, n = 80, k = 300, ldc = 96;
    const auto a = test_values(size_t(m * k), 11), b = test_values(size_t(k * n), 12);
    std::vector<float> bias = test_values(size_t(n), 13);
    float* aligned = static_cast<float*>(std::aligned_alloc(64, size_t(m * ldc + 16) * 4));
    REQUIRE(aligned != nullptr);
    for (const int64_t shift : {0, 1}) {  // aligned, then not
      CAPTURE(shift);
      float* c = aligned + shift;
      GemmDesc d;
      d.m = m, d.n = n, d.k = k, d.lda = k, d.ldb = n, d.ldc = ldc;
      d.bias = bias.data(), d.relu = true, d.stream_c = true;
      std::vector<float> want(size_t(m * ldc), 0.f);
      std::fill_n(c, m * ldc, 0.f);
      gemm(c, a.data(), b.data(), d);
      reference_gemm(want.data(), a.data(), b.data(), d);
      CHECK(std::memcmp(c, want.data(), want.size() * sizeof(float)) == 0);
    }
    std::free(aligned);
  });
}
