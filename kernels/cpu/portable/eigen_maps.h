#pragma once
// Row-major Eigen views of the plain buffers the own convolutions work on. Unaligned (a slice
// of a tensor need not start on a boundary) and with an outer stride, so a block of rows or
// columns of a larger matrix is a view, never a copy.
#include <cstdint>

#include <Eigen/Core>

namespace ar1::kernels::cpu::portable {

using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixView = Eigen::Map<RowMajorMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using ConstMatrixView = Eigen::Map<const RowMajorMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;

// rows x cols starting at p, rows `ld` floats apart.
inline MatrixView view(float* p, int64_t rows, int64_t cols, int64_t ld) {
  return MatrixView(p, rows, cols, Eigen::OuterStride<>(ld));
}
inline ConstMatrixView view(const float* p, int64_t rows, int64_t cols, int64_t ld) {
  return ConstMatrixView(p, rows, cols, Eigen::OuterStride<>(ld));
}

}  // namespace ar1::kernels::cpu::portable
