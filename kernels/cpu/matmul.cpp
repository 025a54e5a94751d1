#include "kernels/matmul.h"

#include <Eigen/Core>

namespace ar1::kernels::cpu {

namespace {
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMapU = Eigen::Map<const RowMajor>;
}  // namespace

void matmul(float* c, const float* a, const float* b, const MatmulDesc& d) {
  Eigen::Map<RowMajor> C(c, d.m, d.n);
  // Unaligned maps: slices of a tensor need not start on an alignment boundary.
  ConstMapU A(a, d.trans_a ? d.k : d.m, d.trans_a ? d.m : d.k);
  ConstMapU B(b, d.trans_b ? d.n : d.k, d.trans_b ? d.k : d.n);
  if (d.k == 0) {
    C.setZero();
    return;
  }
  if (d.trans_a && d.trans_b) {
    C.noalias() = A.transpose() * B.transpose();
  } else if (d.trans_a) {
    C.noalias() = A.transpose() * B;
  } else if (d.trans_b) {
    C.noalias() = A * B.transpose();
  } else {
    C.noalias() = A * B;
  }
}

}  // namespace ar1::kernels::cpu
