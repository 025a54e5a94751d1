// The pointwise GEMM of pointwise_gemm.h: a register-blocked AVX-512 micro-kernel (a tile of
// up to 14 x 32 outputs held in 28 zmm accumulators while k runs) under a blocking that keeps a
// 256-deep, 32-column panel of B (32 KiB) in L1 and a row block of A in L2.
//
// A is read where it lies: forward broadcasts x's rows, backward-data dy's rows, backward-
// weights dy along its channels. B is packed into contiguous 32-column panels (rows 128 floats
// apart share a few cache sets): w^T and w once per call, x's rows per pass in backward-weights.
//
// Determinism: every output element is summed over k in passes of kKC in increasing order, and
// within a pass k by k, by exactly one thread. Backward-weights, whose k is the pixel rows (up
// to half a million), cuts k into chunks fixed by the shape whose partial sums are added in
// chunk order afterwards. No step depends on the thread count.
//
// The functions carry target("avx512f") and are only called after a run-time check, so the
// library still runs on AVX2 machines.
#include "kernels/cpu/pointwise_gemm.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/cpu_allocator.h"
#include "core/error.h"
#include "kernels/cpu/fixed_blocks.h"

#define AR1_AVX512 __attribute__((target("avx512f")))

namespace ar1::kernels::cpu {

namespace {

constexpr int kMR = 14;        // rows of a micro-tile: 2 x 14 accumulators + 2 B + 1 A = 31 zmm
constexpr int64_t kNR = 32;    // columns of a micro-tile (two vectors)
constexpr int64_t kKC = 256;   // k per pass: the B slice, 256 x 32 floats, stays in L1
constexpr int64_t kMC = 8 * kMR;  // rows per task: its A block (112 x 256 floats) in L2
constexpr int64_t kNC = 256;   // columns per task
// Backward-weights: pixel rows per k chunk (at least), and at most this many chunks.
constexpr int64_t kMinChunkRows = 4096;
constexpr int64_t kMaxChunks = 16;

// C [m, n] = A B over a range of k. A is read in one of two layouts; B(k, j) = b[k ldb + j];
// C(i, j) = c[i ldc + j].
enum class ALayout {
  rows,     // A(i, k) = a[i lda + k]: x or dy as they lie (forward, backward-data)
  columns,  // A(i, k) = a[k lda + i]: dy transposed (backward-weights)
};

struct Gemm {
  const float* a = nullptr;
  int64_t lda = 0;
  ALayout layout = ALayout::rows;
  const float* b = nullptr;
  int64_t ldb = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  int64_t m = 0, n = 0;
  const float* bias = nullptr;  // forward only: C += bias[j], then ReLU when relu is set
  bool relu = false;
};

// One MR x 32 tile over kc values of k: C = (accumulate ? C : 0) + A B, then the epilogue.
// Columns beyond the tile's width are masked off (m0 covers columns 0-15, m1 16-31).
// B is a packed panel (row k at b + k * kNR, zero beyond the tile's width), so its loads need
// no mask.
template <int MR, bool kRowsA>
AR1_AVX512 void micro_tile(int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                           int64_t ldc, __mmask16 m0, __mmask16 m1, bool accumulate,
                           const float* bias, bool relu) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b + k * kNR);
    const __m512 b1 = _mm512_load_ps(b + k * kNR + 16);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(kRowsA ? a[r * lda + k] : a[k * lda + r]);
      acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  const __m512 bias0 = bias != nullptr ? _mm512_maskz_loadu_ps(m0, bias) : zero;
  const __m512 bias1 = bias != nullptr ? _mm512_maskz_loadu_ps(m1, bias + 16) : zero;
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    float* row = c + r * ldc;
    __m512 v0 = acc0[r], v1 = acc1[r];
    if (accumulate) {
      v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), v0);
      v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), v1);
    }
    if (bias != nullptr) {
      v0 = _mm512_add_ps(v0, bias0);
      v1 = _mm512_add_ps(v1, bias1);
      if (relu) {
        v0 = _mm512_mask_max_ps(zero, 0xFFFF, v0, zero);  // _mm512_max_ps trips -Wmaybe-uninitialized in GCC 12
        v1 = _mm512_mask_max_ps(zero, 0xFFFF, v1, zero);
      }
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    _mm512_mask_storeu_ps(row + 16, m1, v1);
  }
}

using MicroTile = void (*)(int64_t, const float*, int64_t, const float*, float*, int64_t,
                           __mmask16, __mmask16, bool, const float*, bool);

// micro_tile for 1..kMR rows, indexed by the row count.
template <bool kRowsA, int... R>
constexpr std::array<MicroTile, kMR + 1> micro_tiles(std::integer_sequence<int, R...>) {
  return {nullptr, &micro_tile<R + 1, kRowsA>...};
}
constexpr auto kRowsTiles = micro_tiles<true>(std::make_integer_sequence<int, kMR>{});
constexpr auto kColumnsTiles = micro_tiles<false>(std::make_integer_sequence<int, kMR>{});

__mmask16 lanes(int64_t count) {
  if (count <= 0) return 0;
  return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1);
}

// Splits [begin, end) into `parts` ranges whose sizes differ by at most one; returns part p.
std::pair<int64_t, int64_t> balanced_part(int64_t begin, int64_t end, int64_t parts, int64_t p) {
  const int64_t size = end - begin, base = size / parts, extra = size % parts;
  const int64_t first = begin + p * base + std::min(p, extra);
  return {first, first + base + (p < extra ? 1 : 0)};
}

// B for one pass and one 32-column panel, contiguous: row k of the panel at panel + k * kNR.
// Forward and backward-data pack all of B once per call (pack_panels); backward-weights packs
// the panel of x it is about to use (pack_panel), since its B is the activations themselves.
// Contiguous panels stay in L1 across a task's strips, which rows `ldb` floats apart do not
// when ldb is a multiple of 128 (every row in the same few cache sets).
void pack_panel(float* panel, const float* b, int64_t ldb, int64_t kc, int64_t nr) {
  for (int64_t k = 0; k < kc; ++k) {
    float* dst = panel + k * kNR;
    std::copy_n(b + k * ldb, nr, dst);
    std::fill(dst + nr, dst + kNR, 0.f);
  }
}

// Rows [i0, i1) and columns [j0, j1) of C over k in [0, k_total), single-threaded. B comes
// either packed (panels: panel p of all k at panels + p * k_total * kNR) or as rows of g.b, in
// which case each pass's panel is packed into `scratch` (kKC x kNR floats). The rows are cut
// into strips of at most kMR, as even as can be (128 rows: 10 strips of 12-13, not 9 of 14 and
// one of 2). The epilogue (bias, ReLU) runs with the last pass.
AR1_AVX512 void gemm_block(const Gemm& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1,
                           int64_t k_total, const float* panels, float* scratch) {
  const bool rows_a = g.layout == ALayout::rows;
  const auto& tiles = rows_a ? kRowsTiles : kColumnsTiles;
  const int64_t strips = ceil_div(i1 - i0, kMR);
  for (int64_t pc = 0; pc < k_total; pc += kKC) {
    const int64_t kc = std::min(kKC, k_total - pc);
    const bool accumulate = pc > 0, last = pc + kc >= k_total;
    const float* a_pass = rows_a ? g.a + pc : g.a + pc * g.lda;
    for (int64_t j = j0; j < j1; j += kNR) {
      const int64_t nr = std::min(kNR, j1 - j);
      const __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
      const float* b;
      if (panels != nullptr) {
        b = panels + (j / kNR) * k_total * kNR + pc * kNR;
      } else {
        pack_panel(scratch, g.b + pc * g.ldb + j, g.ldb, kc, nr);
        b = scratch;
      }
      const float* bias = last && g.bias != nullptr ? g.bias + j : nullptr;
      for (int64_t s = 0; s < strips; ++s) {
        const auto [i, i_end] = balanced_part(i0, i1, strips, s);
        const float* a = rows_a ? a_pass + i * g.lda : a_pass + i;
        tiles[i_end - i](kc, a, g.lda, b, g.c + i * g.ldc + j, g.ldc, m0, m1, accumulate,
                         bias, g.relu);
      }
    }
  }
}

// Tasks of at most kMC rows x kNC columns over C, as even as can be.
struct TaskGrid {
  int64_t row_tasks, col_tasks;
  TaskGrid(int64_t m, int64_t n) : row_tasks(ceil_div(m, kMC)), col_tasks(ceil_div(n, kNC)) {}
  int64_t count() const { return row_tasks * col_tasks; }
};

// C over all of k with B packed in panels, the tasks shared out among the threads (a task's
// result does not depend on which thread runs it).
void gemm(const Gemm& g, int64_t k, const float* panels) {
  const TaskGrid grid(g.m, g.n);
#pragma omp parallel for schedule(static) if (grid.count() > 1)
  for (int64_t t = 0; t < grid.count(); ++t) {
    const auto [i0, i1] = balanced_part(0, g.m, grid.row_tasks, t / grid.col_tasks);
    // Column tasks stay multiples of kNR wide, so panels are whole.
    const int64_t j0 = (t % grid.col_tasks) * kNC, j1 = std::min(g.n, j0 + kNC);
    gemm_block(g, i0, i1, j0, j1, k, panels, nullptr);
  }
}

// Scratch from the allocator the activations use, given back on scope exit.
class Scratch {
 public:
  explicit Scratch(size_t floats)
      : block_(CpuAllocator::instance().allocate(std::max<size_t>(floats, 1) * sizeof(float))) {}
  ~Scratch() { CpuAllocator::instance().release(block_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* data() const { return static_cast<float*>(block_.data); }

 private:
  Block block_;
};

bool has_avx512f() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

}  // namespace

bool pointwise_gemm_enabled() {
  static const bool enabled = [] {
    const char* choice = std::getenv("AR1_POINTWISE_GEMM");
    return has_avx512f() && choice != nullptr && std::string_view(choice) == "own";
  }();
  return enabled;
}

void pointwise_forward(float* y, const float* x, const float* w, int64_t rows, int64_t c_in,
                       int64_t c_out, const float* bias, bool relu) {
  AR1_CHECK(has_avx512f(), "[pointwise_forward] needs AVX-512F");
  // B = w^T [c_in, c_out] in panels: panel p, row k holds w[p * 32 + 0..31, k].
  const int64_t n_panels = ceil_div(c_out, kNR);
  Scratch panels(static_cast<size_t>(n_panels * c_in * kNR));
  for (int64_t p = 0; p < n_panels; ++p) {
    float* panel = panels.data() + p * c_in * kNR;
    for (int64_t j = 0; j < kNR; ++j) {
      const int64_t o = p * kNR + j;
      for (int64_t k = 0; k < c_in; ++k) panel[k * kNR + j] = o < c_out ? w[o * c_in + k] : 0.f;
    }
  }
  Gemm g;
  g.a = x;
  g.lda = c_in;
  g.c = y;
  g.ldc = c_out;
  g.m = rows;
  g.n = c_out;
  g.bias = bias;
  g.relu = relu;
  gemm(g, c_in, panels.data());
}

void pointwise_backward_data(float* dx, const float* dy, const float* w, int64_t rows,
                             int64_t c_in, int64_t c_out) {
  AR1_CHECK(has_avx512f(), "[pointwise_backward_data] needs AVX-512F");
  // B = w [c_out, c_in] in panels of 32 of its columns.
  const int64_t n_panels = ceil_div(c_in, kNR);
  Scratch panels(static_cast<size_t>(n_panels * c_out * kNR));
  for (int64_t p = 0; p < n_panels; ++p) {
    pack_panel(panels.data() + p * c_out * kNR, w + p * kNR, c_in, c_out,
               std::min(kNR, c_in - p * kNR));
  }
  Gemm g;
  g.a = dy;
  g.lda = c_out;
  g.c = dx;
  g.ldc = c_in;
  g.m = rows;
  g.n = c_in;
  gemm(g, c_out, panels.data());
}

void pointwise_backward_weights(float* dw, const float* dy, const float* x, int64_t rows,
                                int64_t c_in, int64_t c_out) {
  AR1_CHECK(has_avx512f(), "[pointwise_backward_weights] needs AVX-512F");
  const int64_t w_count = c_out * c_in;
  if (rows == 0) {
    std::fill_n(dw, w_count, 0.f);
    return;
  }
  const int64_t per_chunk = fixed_block_size(rows, kMinChunkRows, kMaxChunks);
  const int64_t chunks = ceil_div(rows, per_chunk);
  // Chunk 0 writes dw; chunks 1.. write partials, added in chunk order below.
  Scratch partials(static_cast<size_t>((chunks - 1) * w_count));
  Gemm g;
  g.a = dy;
  g.lda = c_out;
  g.layout = ALayout::columns;
  g.b = x;
  g.ldb = c_in;
  g.ldc = c_in;
  g.m = c_out;
  g.n = c_in;
  const TaskGrid grid(g.m, g.n);
  const int64_t tasks = chunks * grid.count();
#pragma omp parallel for schedule(static) if (tasks > 1)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t chunk = t / grid.count(), tile = t % grid.count();
    const auto [i0, i1] = balanced_part(0, g.m, grid.row_tasks, tile / grid.col_tasks);
    const int64_t j0 = (tile % grid.col_tasks) * kNC, j1 = std::min(g.n, j0 + kNC);
    const int64_t k0 = chunk * per_chunk, k1 = std::min(rows, k0 + per_chunk);
    Gemm part = g;
    part.c = chunk == 0 ? dw : partials.data() + (chunk - 1) * w_count;
    // Rows k0.. of dy and x: shift A and B so the block runs over k in [0, k1 - k0).
    part.a = dy + k0 * c_out;
    part.b = x + k0 * c_in;
    alignas(64) float panel[kKC * kNR];
    gemm_block(part, i0, i1, j0, j1, k1 - k0, nullptr, panel);
  }
  if (chunks == 1) return;
  const float* p = partials.data();
#pragma omp parallel for schedule(static) if (w_count > 4096)
  for (int64_t i = 0; i < w_count; ++i) {
    float sum = dw[i];
    for (int64_t c = 1; c < chunks; ++c) sum += p[(c - 1) * w_count + i];
    dw[i] = sum;
  }
}

}  // namespace ar1::kernels::cpu
