#include "kernels/matmul.h"

#include <algorithm>

#include <Eigen/Core>

#include "kernels/cpu/fixed_blocks.h"

namespace ar1::kernels::cpu {

namespace {
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMapU = Eigen::Map<const RowMajor>;

// Eigen picks its k-blocking from the thread count it runs with, so a product is cut into
// blocks of rows of C fixed by the shape, each computed whole by a single-threaded Eigen call
// (fixed_blocks.h): the same bits on any thread count. At least kMinBlockRows rows a block
// and at most kBlocks blocks (each block reads all of op(B)).
constexpr int64_t kMinBlockRows = 32;
constexpr int64_t kBlocks = 8;
}  // namespace

void matmul(float* c, const float* a, const float* b, const MatmulDesc& d) {
  Eigen::Map<RowMajor> C(c, d.m, d.n);
  // Unaligned maps: slices of a tensor need not start on an alignment boundary.
  ConstMapU A(a, d.trans_a ? d.k : d.m, d.trans_a ? d.m : d.k);
  ConstMapU B(b, d.trans_b ? d.n : d.k, d.trans_b ? d.k : d.n);
  if (d.k == 0 || d.m == 0) {
    C.setZero();
    return;
  }
  const int64_t per_block = fixed_block_size(d.m, kMinBlockRows, kBlocks);
  for_each_fixed_block(ceil_div(d.m, per_block), [&](int64_t block) {
    const int64_t first = block * per_block, rows = std::min(per_block, d.m - first);
    auto C_rows = C.middleRows(first, rows);
    if (d.trans_a && d.trans_b) {
      C_rows.noalias() = A.middleCols(first, rows).transpose() * B.transpose();
    } else if (d.trans_a) {
      C_rows.noalias() = A.middleCols(first, rows).transpose() * B;
    } else if (d.trans_b) {
      C_rows.noalias() = A.middleRows(first, rows) * B.transpose();
    } else {
      C_rows.noalias() = A.middleRows(first, rows) * B;
    }
  });
}

}  // namespace ar1::kernels::cpu
