// The portable GEMM of gemm.h: BLIS-style blocking around one register-tiled micro-kernel per
// instruction set.
//
// Loops, outermost first: columns of C in blocks of kNC (op(B) packed kKC x kNC, in L2/L3),
// k in passes of kKC, rows of C in blocks of kMC (op(A) packed kMC x kKC, in L2), then
// kNR-column panels and strips of at most kMR rows. A micro-tile keeps its outputs in
// registers for one pass; each step p broadcasts op(A)(i, p) for its rows and multiplies a
// vector of op(B)(p, j) into the accumulators with one fma per output, so each output sees one
// chain in p order. Between passes the tile goes through C (an exact store and load), which is
// why the bits do not depend on kKC. Rows are cut into strips as even as can be (a tile of R
// rows is its own instantiation); a panel narrower than kNR is zero-padded and its tile runs
// on a copy of C, of which only the valid outputs go back. When C has fewer than kNR columns,
// the transposed product is computed instead (see gemm), so the vectors run along the long side.
//
// The only float arithmetic in this file is explicit fma (intrinsics or std::fma) and the
// epilogue's one add per output (no product to fuse it with), so compiler contraction could not
// change it; the build still passes -ffp-contract=off as for every portable kernel.
#include "kernels/cpu/portable/gemm.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)
#include <arm_neon.h>
#endif

#include "kernels/cpu/portable/vector_isa.h"

namespace ar1::kernels::cpu::portable {

namespace {

// ---------------------------------------------------------------- micro-kernels

// What a tile does to its outputs after their last step: v + bias[j] for column j of the tile,
// then std::max(v, 0.f) when relu (a NaN and -0 pass unchanged, as in add_bias). bias nullptr:
// nothing. Vector versions compute the same: one rounded add, then v < 0 ? 0 : v.
struct Epilogue {
  const float* bias = nullptr;
  bool relu = false;
  bool stream = false;  // non-temporal stores (x86 tiles; C 64-byte aligned rows)
  float apply(float v, int64_t j) const {
    if (bias == nullptr) return v;
    v = v + bias[j];
    return relu ? std::max(v, 0.f) : v;
  }
};

// A kernel set K has K::kMR, K::kNR, K::kName and K::tile<R>(kc, a, b, c, ldc, load_c, e),
// R = 1 .. kMR: C[R x kNR] at c (row stride ldc) = e((load_c ? C : +0), then kc fma steps),
// e reading kNR biases at e.bias; a is a packed strip (step p's R values at a + p * kMR), b a
// packed panel (step p's kNR values at b + p * kNR, 64-byte aligned).
//
// On x86-64 every set is compiled, each with its own target attribute, and gemm runs the one
// of vector_isa() (the widest this CPU runs, vector_isa.h). The sets differ in speed only: each
// output is one fma chain.

#if defined(__x86_64__)

struct Avx512Kernel {
  static constexpr int kMR = 8;  // 8 x 2 zmm accumulators + 2 of B + 1 broadcast
  static constexpr int kNR = 32;
  static constexpr const char* kName = "avx512";

  template <int R>
  __attribute__((target("avx512f"))) static void tile(int64_t kc, const float* a,
                                                      const float* b, float* c, int64_t ldc,
                                                      bool load_c, const Epilogue& e) {
    __m512 acc[R][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      acc[r][0] = load_c ? _mm512_loadu_ps(c + r * ldc) : _mm512_setzero_ps();
      acc[r][1] = load_c ? _mm512_loadu_ps(c + r * ldc + 16) : _mm512_setzero_ps();
    }
    for (int64_t p = 0; p < kc; ++p) {
      const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 av = _mm512_set1_ps(a[r]);
        acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
      }
      a += kMR;
      b += kNR;
    }
    if (e.bias != nullptr) {
      const __m512 b0 = _mm512_loadu_ps(e.bias), b1 = _mm512_loadu_ps(e.bias + 16);
      const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        acc[r][0] = _mm512_add_ps(acc[r][0], b0);
        acc[r][1] = _mm512_add_ps(acc[r][1], b1);
        if (e.relu) {  // v < 0 ? 0 : v (ordered: a NaN passes), as std::max(v, 0.f)
          acc[r][0] = _mm512_mask_mov_ps(acc[r][0],
                                         _mm512_cmp_ps_mask(acc[r][0], zero, _CMP_LT_OQ), zero);
          acc[r][1] = _mm512_mask_mov_ps(acc[r][1],
                                         _mm512_cmp_ps_mask(acc[r][1], zero, _CMP_LT_OQ), zero);
        }
      }
    }
    if (e.stream) {  // aligned, and not read again soon: past the caches
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        _mm512_stream_ps(c + r * ldc, acc[r][0]);
        _mm512_stream_ps(c + r * ldc + 16, acc[r][1]);
      }
      return;
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      _mm512_storeu_ps(c + r * ldc, acc[r][0]);
      _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
    }
  }
};

struct Avx2Kernel {
  static constexpr int kMR = 6;  // 6 x 2 ymm accumulators + 2 of B + 1 broadcast = 15 of 16
  static constexpr int kNR = 16;
  static constexpr const char* kName = "avx2";

  template <int R>
  __attribute__((target("avx2,fma"))) static void tile(int64_t kc, const float* a,
                                                       const float* b, float* c, int64_t ldc,
                                                       bool load_c, const Epilogue& e) {
    __m256 acc[R][2];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      acc[r][0] = load_c ? _mm256_loadu_ps(c + r * ldc) : _mm256_setzero_ps();
      acc[r][1] = load_c ? _mm256_loadu_ps(c + r * ldc + 8) : _mm256_setzero_ps();
    }
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; ++p) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        const __m256 av = _mm256_broadcast_ss(a + r);
        acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
      }
      a += kMR;
      b += kNR;
    }
    if (e.bias != nullptr) {
      const __m256 b0 = _mm256_loadu_ps(e.bias), b1 = _mm256_loadu_ps(e.bias + 8);
      const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        acc[r][0] = _mm256_add_ps(acc[r][0], b0);
        acc[r][1] = _mm256_add_ps(acc[r][1], b1);
        if (e.relu) {  // max(0, v) = 0 > v ? 0 : v, as std::max(v, 0.f)
          acc[r][0] = _mm256_max_ps(zero, acc[r][0]);
          acc[r][1] = _mm256_max_ps(zero, acc[r][1]);
        }
      }
    }
    if (e.stream) {  // aligned, and not read again soon: past the caches
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        _mm256_stream_ps(c + r * ldc, acc[r][0]);
        _mm256_stream_ps(c + r * ldc + 8, acc[r][1]);
      }
      return;
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(c + r * ldc, acc[r][0]);
      _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
    }
  }
};

#endif  // __x86_64__

#if defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)

struct NeonKernel {
  static constexpr int kMR = 8;  // 8 x 2 q accumulators + 2 of B + 1 broadcast, of 32
  static constexpr int kNR = 8;
  static constexpr const char* kName = "neon";

  template <int R>
  static void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                   bool load_c, const Epilogue& e) {
    float32x4_t acc[R][2];
    for (int r = 0; r < R; ++r) {
      acc[r][0] = load_c ? vld1q_f32(c + r * ldc) : vdupq_n_f32(0.f);
      acc[r][1] = load_c ? vld1q_f32(c + r * ldc + 4) : vdupq_n_f32(0.f);
    }
    for (int64_t p = 0; p < kc; ++p) {
      const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
      for (int r = 0; r < R; ++r) {
        const float32x4_t av = vdupq_n_f32(a[r]);
        acc[r][0] = vfmaq_f32(acc[r][0], av, b0);  // acc + av * b0, rounded once
        acc[r][1] = vfmaq_f32(acc[r][1], av, b1);
      }
      a += kMR;
      b += kNR;
    }
    if (e.bias != nullptr) {
      const float32x4_t b0 = vld1q_f32(e.bias), b1 = vld1q_f32(e.bias + 4);
      for (int r = 0; r < R; ++r) {
        acc[r][0] = vaddq_f32(acc[r][0], b0);
        acc[r][1] = vaddq_f32(acc[r][1], b1);
      }
    }
    for (int r = 0; r < R; ++r) {
      if (e.bias != nullptr && e.relu) {
        // v < 0 ? 0 : v, as std::max(v, 0.f): a NaN and -0 pass (vmaxq would give 0 and NaN).
        const float32x4_t zero = vdupq_n_f32(0.f);
        acc[r][0] = vbslq_f32(vcltq_f32(acc[r][0], zero), zero, acc[r][0]);
        acc[r][1] = vbslq_f32(vcltq_f32(acc[r][1], zero), zero, acc[r][1]);
      }
      vst1q_f32(c + r * ldc, acc[r][0]);
      vst1q_f32(c + r * ldc + 4, acc[r][1]);
    }
  }
};

#endif

// Plain C++: std::fma is exact by definition (a software routine where the CPU has no fma).
struct ScalarKernel {
  static constexpr int kMR = 4;
  static constexpr int kNR = 4;
  static constexpr const char* kName = "scalar";

  template <int R>
  static void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                   bool load_c, const Epilogue& e) {
    float acc[R][kNR];
    for (int r = 0; r < R; ++r) {
      for (int j = 0; j < kNR; ++j) acc[r][j] = load_c ? c[r * ldc + j] : 0.f;
    }
    for (int64_t p = 0; p < kc; ++p) {
      for (int r = 0; r < R; ++r) {
        for (int j = 0; j < kNR; ++j) acc[r][j] = std::fma(a[r], b[j], acc[r][j]);
      }
      a += kMR;
      b += kNR;
    }
    for (int r = 0; r < R; ++r) {
      for (int j = 0; j < kNR; ++j) c[r * ldc + j] = e.apply(acc[r][j], j);
    }
  }
};

// ---------------------------------------------------------------- blocking
// Cache block sizes; they change speed only, never bits.
constexpr int64_t kKC = 256;                 // k per pass: a B micro-panel (256 x kNR) in L1
constexpr int64_t kNC = 4096;                // columns per B block: up to 4 MiB, in L3

// Packing scratch, one per thread (gemm may run on many threads at once), grown on demand.
class Scratch {
 public:
  float* reserve(size_t floats) {
    if (floats > size_) {
      // 64-byte aligned (the micro-kernels' aligned loads of B), size a multiple of it.
      const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      if (!data_) throw std::bad_alloc();
      size_ = bytes / sizeof(float);
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data_;
  size_t size_ = 0;
};

thread_local Scratch t_a_pack, t_b_pack;

// Rows of a matrix laid out step by step: dst[p * stride + r] = src[r * ld + p] for p < kc and
// r < width (<= 8, <= stride), 0 for r >= rows. May also write zeros to the 8 - width floats
// after each step's width (the next step overwrites them; the caller leaves room after the
// last). Used where a packed panel wants op(A) or op(B) across the rows of its source.
void pack_across(float* dst, int64_t stride, const float* src, int64_t ld, int64_t rows,
                 int64_t kc, int64_t width) {
  int64_t p = 0;
#if defined(__AVX2__)
  // 8 x 8 blocks through an in-register transpose: loads and stores of 8 floats.
  for (; p + 8 <= kc; p += 8) {
    __m256 v[8];
    for (int r = 0; r < 8; ++r) {
      v[r] = r < rows ? _mm256_loadu_ps(src + r * ld + p) : _mm256_setzero_ps();
    }
    __m256 t[8], u[8];
    for (int r = 0; r < 8; r += 2) {
      t[r] = _mm256_unpacklo_ps(v[r], v[r + 1]);      // r0 r1 interleaved, steps 0 1 | 4 5
      t[r + 1] = _mm256_unpackhi_ps(v[r], v[r + 1]);  // steps 2 3 | 6 7
    }
    for (int r = 0; r < 8; r += 4) {
      u[r] = _mm256_shuffle_ps(t[r], t[r + 2], 0x44);      // 4 rows at step 0 | 4
      u[r + 1] = _mm256_shuffle_ps(t[r], t[r + 2], 0xEE);  // step 1 | 5
      u[r + 2] = _mm256_shuffle_ps(t[r + 1], t[r + 3], 0x44);  // step 2 | 6
      u[r + 3] = _mm256_shuffle_ps(t[r + 1], t[r + 3], 0xEE);  // step 3 | 7
    }
    for (int q = 0; q < 4; ++q) {
      _mm256_storeu_ps(dst + (p + q) * stride, _mm256_permute2f128_ps(u[q], u[q + 4], 0x20));
    }
    for (int q = 0; q < 4; ++q) {
      _mm256_storeu_ps(dst + (p + q + 4) * stride,
                       _mm256_permute2f128_ps(u[q], u[q + 4], 0x31));
    }
  }
#endif
  for (; p < kc; ++p) {
    for (int64_t r = 0; r < width; ++r) dst[p * stride + r] = r < rows ? src[r * ld + p] : 0.f;
  }
}

// C(i, j) at c[i * row_stride + j * col_stride]: row-major, or column-major for the
// transposed problem (see gemm).
struct COut {
  float* c;
  int64_t row_stride, col_stride;
  float* at(int64_t i, int64_t j) const { return c + i * row_stride + j * col_stride; }
};

using Tile = void (*)(int64_t, const float*, const float*, float*, int64_t, bool,
                     const Epilogue&);

// K::tile<R> for R = 1 .. K::kMR, indexed by R.
template <class K, int... R>
constexpr std::array<Tile, K::kMR + 1> make_tiles(std::integer_sequence<int, R...>) {
  return {nullptr, &K::template tile<R + 1>...};
}

// The blocking of the file comment around the micro-kernels of set K.
template <class K>
struct Blocked {
  static constexpr int kMR = K::kMR, kNR = K::kNR;
  static constexpr int64_t kMC = 24 * kMR;  // rows per A block: 144-192 x 256 floats, in L2
  static_assert(kNC % kNR == 0, "B blocks hold whole panels");
  static constexpr auto kTiles = make_tiles<K>(std::make_integer_sequence<int, kMR>{});

  // Floats from one packed strip of A, or panel of B, to the next: one cache line more than the
  // data, so that writing all strips (panels) step by step does not hit a single cache set
  // (256 x 16 floats is 16 KiB, a multiple of the L1's set stride).
  static constexpr int64_t a_strip_size(int64_t kc) { return kc * kMR + 16; }
  static constexpr int64_t b_panel_size(int64_t kc) { return kc * kNR + 16; }

  // Rows [0, mc) of a block cut into `strips` strips of at most kMR rows, as even as can be
  // (9 rows: 5 + 4, not 6 + 3, so every tile keeps enough accumulators to hide fma latency).
  struct Strips {
    int64_t count, base, extra;  // the first `extra` strips have base + 1 rows
    explicit Strips(int64_t mc)
        : count((mc + kMR - 1) / kMR), base(mc / count), extra(mc % count) {}
    int64_t first(int64_t s) const { return s * base + std::min(s, extra); }
    int64_t rows(int64_t s) const { return base + (s < extra ? 1 : 0); }
  };

  // op(A) rows [i0, i0 + mc) x k [p0, p0 + kc) into strips: strip s, step p, row r at
  // dst[s * a_strip_size(kc) + p * kMR + r] for r < its rows (the rest is never read). May write
  // up to 8 floats past the last strip.
  static void pack_a(float* dst, const float* a, const GemmDesc& d, int64_t i0, int64_t mc,
                     int64_t p0, int64_t kc) {
    const Strips strips(mc);
    if (d.trans_a) {
      // op(A)(i, p) = a[p lda + i]: walk A's rows in order and deal each out to the strips.
      // All strips but the last copy a full kMR floats, a fixed-size copy the compiler inlines: a
      // short strip's extra float is the next strip's first row, never read, and in bounds since
      // every strip has at least kMR / 2 rows.
      const int64_t last = strips.count - 1, last_rows = strips.rows(last);
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = a + (p0 + p) * d.lda + i0;
        float* out = dst + p * kMR;
        for (int64_t s = 0; s < last; ++s) {
          std::memcpy(out + s * a_strip_size(kc), src + strips.first(s), kMR * sizeof(float));
        }
        const float* from = src + strips.first(last);
        for (int64_t r = 0; r < last_rows; ++r) out[last * a_strip_size(kc) + r] = from[r];
      }
      return;
    }
    // op(A)(i, p) = a[i lda + p]: rows along p, laid out step by step.
    for (int64_t s = 0; s < strips.count; ++s) {
      const float* src = a + (i0 + strips.first(s)) * d.lda + p0;
      pack_across(dst + s * a_strip_size(kc), kMR, src, d.lda, strips.rows(s), kc, kMR);
    }
  }

  // op(B) k [p0, p0 + kc) x columns [j0, j0 + nc) into kNR-column panels: panel q, step p,
  // column j at dst[q * b_panel_size(kc) + p * kNR + j]; columns past nc are zero.
  static void pack_b(float* dst, const float* b, const GemmDesc& d, int64_t p0, int64_t kc,
                     int64_t j0, int64_t nc) {
    const int64_t panels = (nc + kNR - 1) / kNR, tail = nc - (panels - 1) * kNR;
    if (d.trans_b) {
      // op(B)(p, j) = b[j ldb + p]: B's rows along p, laid out step by step, 8 columns at a time.
      static_assert(kNR % 4 == 0);
      constexpr int64_t kGroup = std::min<int64_t>(8, kNR);
      for (int64_t j = 0; j < panels * kNR; j += kGroup) {
        float* out = dst + (j / kNR) * b_panel_size(kc) + j % kNR;
        const int64_t rows = std::clamp<int64_t>(nc - j, 0, kGroup);
        pack_across(out, kNR, b + (j0 + j) * d.ldb + p0, d.ldb, rows, kc, kGroup);
      }
      return;
    }
    // op(B)(p, j) = b[p ldb + j]: walk B's rows in order (rows far apart defeat the hardware
    // prefetcher) and deal each row's kNR-column pieces out to the panels.
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = b + (p0 + p) * d.ldb + j0;
      float* out = dst + p * kNR;
      for (int64_t q = 0; q + 1 < panels; ++q) {
        std::memcpy(out + q * b_panel_size(kc), src + q * kNR, kNR * sizeof(float));
      }
      float* last = out + (panels - 1) * b_panel_size(kc);
      std::memcpy(last, src + (panels - 1) * kNR, size_t(tail) * sizeof(float));
      std::fill(last + tail, last + kNR, 0.f);
    }
  }

  // A tile narrower than kNR, or of a column-major C: the full tile runs on a row-major copy,
  // and only the valid outputs go back (the padding lanes see zero-padded panels and are thrown
  // away), through the epilogue on the last pass. A column-major C is the transposed problem
  // (see gemm): its rows are the caller's columns, which the bias runs along.
  static void copied_tile(int64_t kc, const float* a, const float* b, const COut& c, int64_t i,
                          int64_t j, bool load_c, int64_t mr, int64_t nr, const GemmDesc& d,
                          bool last_pass) {
    alignas(64) float tmp[kMR * kNR] = {};  // the padding lanes too: no uninitialised reads
    if (load_c) {
      for (int64_t r = 0; r < mr; ++r) {
        for (int64_t q = 0; q < nr; ++q) tmp[r * kNR + q] = *c.at(i + r, j + q);
      }
    }
    kTiles[mr](kc, a, b, tmp, kNR, load_c, Epilogue{});
    const Epilogue e{last_pass ? d.bias : nullptr, d.relu};
    const bool bias_along_rows = c.col_stride != 1;
    for (int64_t r = 0; r < mr; ++r) {
      for (int64_t q = 0; q < nr; ++q) {
        *c.at(i + r, j + q) = e.apply(tmp[r * kNR + q], bias_along_rows ? i + r : j + q);
      }
    }
  }

  // Packed panels' columns [0, nc) times scale[column] (GemmDesc::b_scale), in place.
  static void scale_b(float* dst, const float* scale, int64_t kc, int64_t nc) {
    for (int64_t q = 0; q * kNR < nc; ++q) {
      float* panel = dst + q * b_panel_size(kc);
      const float* s = scale + q * kNR;
      const int64_t cols = std::min<int64_t>(kNR, nc - q * kNR);
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t j = 0; j < cols; ++j) panel[p * kNR + j] *= s[j];
      }
    }
  }

  // The loops of the file comment, for d's m, n, k and operands (d.ldc is ignored for c).
  static void blocked_gemm(const COut& c, const float* a, const float* b, const GemmDesc& d) {
    const int64_t kc_max = std::min(kKC, d.k);
    const int64_t mc_max = std::min(kMC, (d.m + kMR - 1) / kMR * kMR);
    const int64_t nc_max = std::min(kNC, (d.n + kNR - 1) / kNR * kNR);
    // + 8: pack_across's spill after the last strip.
    float* const a_pack = t_a_pack.reserve(size_t(mc_max / kMR * a_strip_size(kc_max) + 8));
    float* const b_pack = t_b_pack.reserve(size_t(nc_max / kNR * b_panel_size(kc_max)));
    const bool row_major = c.col_stride == 1;
    // Non-temporal stores where asked and every full tile's rows are 64-byte aligned.
    const bool stream = d.stream_c && row_major &&
                        reinterpret_cast<uintptr_t>(c.c) % 64 == 0 && c.row_stride % 16 == 0;

    for (int64_t j0 = 0; j0 < d.n; j0 += kNC) {
      const int64_t nc = std::min(kNC, d.n - j0);
      for (int64_t p0 = 0; p0 < d.k; p0 += kKC) {
        const int64_t kc = std::min(kKC, d.k - p0);
        // Pass 0 starts from C only when accumulating; later passes continue C's chains.
        const bool load_c = d.accumulate || p0 > 0;
        const bool last_pass = p0 + kc == d.k;
        pack_b(b_pack, b, d, p0, kc, j0, nc);
        if (d.b_scale != nullptr) scale_b(b_pack, d.b_scale + j0, kc, nc);
        for (int64_t i0 = 0; i0 < d.m; i0 += kMC) {
          const int64_t mc = std::min(kMC, d.m - i0);
          const Strips strips(mc);
          pack_a(a_pack, a, d, i0, mc, p0, kc);
          for (int64_t jr = 0; jr < nc; jr += kNR) {
            const int64_t nr = std::min<int64_t>(kNR, nc - jr);
            const float* bp = b_pack + (jr / kNR) * b_panel_size(kc);
            for (int64_t s = 0; s < strips.count; ++s) {
              const int64_t mr = strips.rows(s), i = i0 + strips.first(s), j = j0 + jr;
              const float* ap = a_pack + s * a_strip_size(kc);
              if (load_c && row_major && s + 1 < strips.count) {
                // The next tile starts by loading its outputs: fetch them while this one runs.
                for (int64_t r = 0; r < strips.rows(s + 1); ++r) {
                  const float* next = c.at(i0 + strips.first(s + 1) + r, j);
                  __builtin_prefetch(next);
                  __builtin_prefetch(next + kNR - 1);
                }
              }
              if (row_major && nr == kNR) {
                const Epilogue e{last_pass && d.bias != nullptr ? d.bias + j : nullptr, d.relu,
                                 stream && last_pass};
                kTiles[mr](kc, ap, bp, c.at(i, j), c.row_stride, load_c, e);
              } else {
                copied_tile(kc, ap, bp, c, i, j, load_c, mr, nr, d, last_pass);
              }
            }
          }
        }
      }
    }
#if defined(__x86_64__)
    if (stream) _mm_sfence();  // the streamed stores visible before the caller's barrier
#endif
  }
};

// One kernel set's entry points.
struct GemmImpl {
  const char* name;
  int nr;  // K::kNR
  void (*run)(const COut&, const float*, const float*, const GemmDesc&);
};
template <class K>
constexpr GemmImpl impl_of() {
  return {K::kName, K::kNR, &Blocked<K>::blocked_gemm};
}

// The set of the vector instruction set the portable kernels run on (vector_isa.h).
const GemmImpl& impl_here() {
  switch (vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512: {
      static constexpr GemmImpl impl = impl_of<Avx512Kernel>();
      return impl;
    }
    case VectorIsa::avx2: {
      static constexpr GemmImpl impl = impl_of<Avx2Kernel>();
      return impl;
    }
#endif
#if defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)
    case VectorIsa::neon: {
      static constexpr GemmImpl impl = impl_of<NeonKernel>();
      return impl;
    }
#endif
    default: {
      static constexpr GemmImpl impl = impl_of<ScalarKernel>();
      return impl;
    }
  }
}

}  // namespace

void gemm(float* c, const float* a, const float* b, const GemmDesc& d) {
  if (d.m <= 0 || d.n <= 0) return;
  if (d.k <= 0) {
    // The empty chain: +0, or C unchanged; then the epilogue.
    const Epilogue e{d.bias, d.relu};
    for (int64_t i = 0; i < d.m; ++i) {
      float* row = c + i * d.ldc;
      for (int64_t j = 0; j < d.n; ++j) row[j] = e.apply(d.accumulate ? row[j] : 0.f, j);
    }
    return;
  }
  const GemmImpl& impl = impl_here();
  if (d.n < impl.nr && d.m > d.n && d.b_scale == nullptr) {
    // Few columns would leave most vector lanes idle: compute C^T = op(B)^T op(A)^T into a
    // column-major view of C instead. Each output's chain is the same (fma(a, b, acc) ==
    // fma(b, a, acc)); only the tiling changes. (Not with b_scale, which packing B applies.)
    GemmDesc t = d;
    t.m = d.n;
    t.n = d.m;
    t.trans_a = !d.trans_b;
    t.lda = d.ldb;
    t.trans_b = !d.trans_a;
    t.ldb = d.lda;
    impl.run(COut{c, 1, d.ldc}, b, a, t);
    return;
  }
  impl.run(COut{c, d.ldc, 1}, a, b, d);
}

const char* gemm_isa() { return impl_here().name; }

}  // namespace ar1::kernels::cpu::portable
