// Peak probes (see roofline.h). Every FMA loop keeps enough independent accumulators to cover
// the FMA latency times the number of FMA pipes (Zen 4/5 and recent Intel: 4 cycles x 2 pipes
// = 8 chains), so it measures throughput, not latency. Each ISA variant is compiled with a
// target attribute and picked at run time, so the binary runs on any x86-64.
#include "bench/roofline.h"

#include <cpuid.h>
#include <immintrin.h>
#include <omp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace ar1::bench {

namespace {

// Horizontal sum through memory (GCC 12's _mm512_reduce_add_ps warns of an uninitialised
// temporary inside its own header).
__attribute__((target("avx512f"))) float sum_lanes(__m512 v) {
  alignas(64) float out[16];
  _mm512_store_ps(out, v);
  float t = 0.f;
  for (float x : out) t += x;
  return t;
}

volatile float g_sink = 0.f;  // keeps the loops' results alive

// acc = acc * m + b converges to b / (1 - m): no overflow, no denormals, and no compiler may
// fold the chain (no fast-math).
constexpr float kMul = 0.9999999f, kAdd = 1e-7f;

__attribute__((target("avx512f"))) float fma_avx512(int64_t iters, float seed) {
  constexpr int kAcc = 16;  // of 32 zmm registers
  __m512 acc[kAcc];
  for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_set1_ps(seed + 0.01f * k);
  const __m512 m = _mm512_set1_ps(kMul), b = _mm512_set1_ps(kAdd);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_fmadd_ps(acc[k], m, b);
  }
  __m512 s = acc[0];
  for (int k = 1; k < kAcc; ++k) s = _mm512_add_ps(s, acc[k]);
  return sum_lanes(s);
}
constexpr double kFlopsAvx512 = 16.0 * 16 * 2;  // accumulators x lanes x (mul + add)

__attribute__((target("avx2,fma"))) float fma_avx2(int64_t iters, float seed) {
  constexpr int kAcc = 12;  // of 16 ymm registers, two hold the constants
  __m256 acc[kAcc];
  for (int k = 0; k < kAcc; ++k) acc[k] = _mm256_set1_ps(seed + 0.01f * k);
  const __m256 m = _mm256_set1_ps(kMul), b = _mm256_set1_ps(kAdd);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int k = 0; k < kAcc; ++k) acc[k] = _mm256_fmadd_ps(acc[k], m, b);
  }
  float out[8];
  __m256 s = acc[0];
  for (int k = 1; k < kAcc; ++k) s = _mm256_add_ps(s, acc[k]);
  _mm256_storeu_ps(out, s);
  float t = 0.f;
  for (float v : out) t += v;
  return t;
}
constexpr double kFlopsAvx2 = 12.0 * 8 * 2;

float fma_scalar(int64_t iters, float seed) {
  float acc[8];
  for (int k = 0; k < 8; ++k) acc[k] = seed + 0.01f * k;
  for (int64_t i = 0; i < iters; ++i) {
    for (float& a : acc) a = a * kMul + kAdd;
  }
  float t = 0.f;
  for (float a : acc) t += a;
  return t;
}
constexpr double kFlopsScalar = 8.0 * 2;

__attribute__((target("avx512f,avx512bf16"))) float bf16_avx512(int64_t iters, float seed) {
  constexpr int kAcc = 16;
  __m512 acc[kAcc];
  for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_set1_ps(seed + 0.01f * k);
  const __m512 small = _mm512_set1_ps(1e-4f);
  const __m512bh a = _mm512_cvtne2ps_pbh(small, small), b = _mm512_cvtne2ps_pbh(small, small);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int k = 0; k < kAcc; ++k) acc[k] = _mm512_dpbf16_ps(acc[k], a, b);
  }
  __m512 s = acc[0];
  for (int k = 1; k < kAcc; ++k) s = _mm512_add_ps(s, acc[k]);
  return sum_lanes(s);
}
// accumulators x 16 f32 lanes x 2 bf16 pairs x (mul + add)
constexpr double kFlopsBf16 = 16.0 * 16 * 2 * 2;

// AMX: tiles 0-3 accumulate C[16 x 16] f32 += A[16 x 32] bf16 . B[32 x 16] bf16 from sources in
// tiles 4-7; four independent accumulators cover tdpbf16ps's latency.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
__attribute__((target("amx-tile,amx-bf16"))) float bf16_amx(int64_t iters) {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  alignas(64) uint16_t src[16 * 32];
  for (uint16_t& v : src) v = 0x3800;  // bf16 1/65536-ish: small, finite products
  alignas(64) float out[16 * 16];
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, src, 64);
  _tile_loadd(5, src, 64);
  _tile_loadd(6, src, 64);
  _tile_loadd(7, src, 64);
  for (int64_t i = 0; i < iters; ++i) {
    _tile_dpbf16ps(0, 4, 5);
    _tile_dpbf16ps(1, 4, 6);
    _tile_dpbf16ps(2, 6, 7);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, 64);
  _tile_release();
  return out[0];
}
// 4 tile products x 16 x 16 outputs x 32 bf16 pairs x (mul + add)
constexpr double kFlopsAmx = 4.0 * 16 * 16 * 32 * 2;

double seconds_of(auto&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::string fma_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512f";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return "scalar";
}

bool has_avx512_bf16() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
}

double fma_loop(int threads, int64_t iters) {
  const std::string isa = fma_isa();
  float total = 0.f;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    const float seed = 0.5f + 0.001f * static_cast<float>(omp_get_thread_num());
    if (isa == "avx512f") {
      total += fma_avx512(iters, seed);
    } else if (isa == "avx2") {
      total += fma_avx2(iters, seed);
    } else {
      total += fma_scalar(iters, seed);
    }
  }
  g_sink = total;
  const double per_iter =
      isa == "avx512f" ? kFlopsAvx512 : isa == "avx2" ? kFlopsAvx2 : kFlopsScalar;
  return per_iter * static_cast<double>(iters) * threads;
}

bool has_amx_bf16() {
  // CPUID leaf 7: EDX bit 22 AMX-BF16, bit 24 AMX-TILE; Linux then grants the tile data state
  // per process on request (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA = 18).
  static const bool ok = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    if (!((edx >> 22) & 1u) || !((edx >> 24) & 1u)) return false;
    return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18) == 0;
  }();
  return ok;
}

double amx_bf16_loop(int threads, int64_t iters) {
  if (!has_amx_bf16()) return 0.0;
  float total = 0.f;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  total += bf16_amx(iters);
  g_sink = total;
  return kFlopsAmx * static_cast<double>(iters) * threads;
}

double bf16_loop(int threads, int64_t iters) {
  if (!has_avx512_bf16()) return 0.0;
  float total = 0.f;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  total += bf16_avx512(iters, 0.5f + 0.001f * static_cast<float>(omp_get_thread_num()));
  g_sink = total;
  return kFlopsBf16 * static_cast<double>(iters) * threads;
}

StreamArrays::StreamArrays(size_t bytes_per_array, int threads)
    : n_(bytes_per_array / sizeof(float)), threads_(threads) {
  const size_t bytes = (n_ * sizeof(float) + 63) / 64 * 64;
  a_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  b_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  c_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (a_ == nullptr || b_ == nullptr || c_ == nullptr) throw std::bad_alloc();
  const auto n = static_cast<int64_t>(n_);
  // First touch with the same static split as the kernels below.
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    a_[i] = 0.f;
    b_[i] = 1.f;
    c_[i] = 2.f;
  }
}

StreamArrays::~StreamArrays() {
  std::free(a_);
  std::free(b_);
  std::free(c_);
}

double StreamArrays::copy() {
  const auto n = static_cast<int64_t>(n_);
  float* __restrict a = a_;
  const float* __restrict b = b_;
#pragma omp parallel for simd num_threads(threads_) schedule(static)
  for (int64_t i = 0; i < n; ++i) a[i] = b[i];
  return 2.0 * static_cast<double>(n_) * sizeof(float);
}

double StreamArrays::triad() {
  const auto n = static_cast<int64_t>(n_);
  float* __restrict a = a_;
  const float* __restrict b = b_;
  const float* __restrict c = c_;
  const float s = 0.5f;
#pragma omp parallel for simd num_threads(threads_) schedule(static)
  for (int64_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
  return 3.0 * static_cast<double>(n_) * sizeof(float);
}

namespace {

// The best rate of a few runs of the FMA loop on `threads` threads.
double best_fma_gflops(int threads, double seconds) {
  int64_t iters = 1 << 16;
  // Grow until one run takes a tenth of the budget, then keep the best of a few runs.
  while (seconds_of([&] { fma_loop(threads, iters); }) < seconds / 10 && iters < (1ll << 40)) {
    iters *= 2;
  }
  double best = 0.0;
  for (int rep = 0; rep < 5; ++rep) {
    double flops = 0.0;
    const double t = seconds_of([&] { flops = fma_loop(threads, iters); });
    best = std::max(best, flops / t * 1e-9);
  }
  return best;
}

}  // namespace

double measure_fma_gflops(int threads, double seconds) {
  if (threads <= 1) return best_fma_gflops(1, seconds);
  // The peak of `threads` threads is at least `threads` times one thread's. A probe of all of
  // them at once that another process disturbs (a VM's neighbour, a lingering worker) measures
  // less, and a share of peak taken against it passes 100 % (issue 31: 111 % on a Zen 4 whose
  // two threads reach 233 GFLOP/s). One thread's turbo clock makes the product an upper bound,
  // which only lowers a share.
  return std::max(best_fma_gflops(threads, seconds / 2),
                  threads * best_fma_gflops(1, seconds / 2));
}

double measure_triad_gbs(int threads, double seconds) {
  // 3 x 128 MiB: four times a 32 MiB L3 per array; any larger L3 would need more.
  StreamArrays s(size_t{128} << 20, threads);
  s.triad();  // warm: pages mapped
  double best = 0.0;
  const auto t_end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int reps = 0;
  while (reps < 3 || std::chrono::steady_clock::now() < t_end) {
    double bytes = 0.0;
    const double t = seconds_of([&] { bytes = s.triad(); });
    best = std::max(best, bytes / t * 1e-9);
    ++reps;
  }
  return best;
}

}  // namespace ar1::bench
