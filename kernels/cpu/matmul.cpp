#include "kernels/matmul.h"

#include <algorithm>

#include "kernels/cpu/fixed_blocks.h"
#include "kernels/cpu/portable/gemm.h"

namespace ar1::kernels::cpu {

namespace {
// The product is cut into blocks of rows of C fixed by the shape, one thread a block, each our
// own single-threaded GEMM (portable/gemm.h: one fma chain per output, so the cut changes no
// bit). At least kMinBlockRows rows a block and at most kBlocks blocks (each block packs all of
// op(B) again).
constexpr int64_t kMinBlockRows = 32;
constexpr int64_t kBlocks = 8;
}  // namespace

void matmul(float* c, const float* a, const float* b, const MatmulDesc& d) {
  if (d.m == 0 || d.n == 0) return;
  const int64_t per_block = fixed_block_size(d.m, kMinBlockRows, kBlocks);
  for_each_fixed_block(ceil_div(d.m, per_block), [&](int64_t block) {
    const int64_t first = block * per_block, rows = std::min(per_block, d.m - first);
    // op(A) [m, k] is stored [k, m] when transposed: its rows `first`.. are columns there.
    const float* a_rows = d.trans_a ? a + first : a + first * d.k;
    portable::gemm(c + first * d.n, a_rows, b,
                   {.m = rows, .n = d.n, .k = d.k, .trans_a = d.trans_a, .trans_b = d.trans_b,
                    .lda = d.trans_a ? d.m : d.k, .ldb = d.trans_b ? d.k : d.n, .ldc = d.n});
  });
}

}  // namespace ar1::kernels::cpu
