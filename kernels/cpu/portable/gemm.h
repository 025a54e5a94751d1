#pragma once
// A single-threaded fp32 GEMM whose results are the same bits on every machine and instruction
// set (AVX-512, AVX2 + FMA, ARM NEON, or plain C++), for any block sizes.
//
// The contract, bit for bit: every output is ONE sequential chain of fused multiply-adds over
// p = 0, 1, ..., k - 1 in increasing order,
//
//   acc = accumulate ? c[i][j] : +0.0f;
//   for (p = 0; p < k; ++p) acc = fmaf(op(A)(i, p), op(B)(p, j), acc);
//   if (bias) { acc = acc + bias[j]; if (relu) acc = std::max(acc, 0.f); }
//   c[i][j] = acc;
//
// so k == 0 writes +0 (or leaves C when accumulating) before the epilogue. Vectors run across
// outputs (i, j) only, never across p; a k-blocked pass stores its accumulators to C and the
// next pass loads them back, which is exact, so neither the blocking nor the vector width can
// change a bit.
// Denormals are kept (no FTZ/DAZ), nothing is approximated or reassociated; the library is
// built with -ffp-contract=off so the compiler adds no fma of its own. (A NaN output is NaN
// everywhere; which input NaN's payload it carries is the one thing not promised.)
//
// Reentrant: packing scratch is thread_local. To run on several threads, cut C into blocks of
// rows or columns and call gemm once per block (every output's chain is the same either way).
#include <cstdint>

namespace ar1::kernels::cpu::portable {

// C [m x n] (+)= op(A) [m x k] * op(B) [k x n], all row-major with strides in elements:
//   op(A)(i, p) = trans_a ? a[p * lda + i] : a[i * lda + p]
//   op(B)(p, j) = trans_b ? b[j * ldb + p] : b[p * ldb + j]
//   C(i, j)     = c[i * ldc + j]
struct GemmDesc {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  int64_t lda = 0, ldb = 0, ldc = 0;
  bool accumulate = false;  // start each chain from C instead of +0
  // The fused epilogue, after each output's chain: C(i, j) = chain + bias[j] (one rounded add),
  // then std::max(C, 0.f) when relu, so a NaN and -0 pass unchanged. bias [n] or nullptr (and
  // then no relu either).
  const float* bias = nullptr;
  bool relu = false;
  // op(B)(p, j) is read as op(B)(p, j) * b_scale[j], one rounded multiply: the bits of scaling
  // B's columns first (a convolution's folded BatchReNorm scale). b_scale [n] or nullptr.
  const float* b_scale = nullptr;
  // A hint: C is large and not read again soon, so its final values may bypass the caches
  // (non-temporal stores, where C's rows are 64-byte aligned). Changes no bit.
  bool stream_c = false;
};

// C must not overlap A or B.
void gemm(float* c, const float* a, const float* b, const GemmDesc& d);

// The micro-kernel gemm uses ("avx512", "avx2", "neon" or "scalar"): that of vector_isa()
// (vector_isa.h), the widest this CPU runs unless a test chose another.
const char* gemm_isa();

}  // namespace ar1::kernels::cpu::portable
