#pragma once
// CWR*'s consolidation of the output layer's rows (SPEC.md; strategy/cwr_star.h). For the rows
// trained this experience, with avg the mean of all their entries:
//   saved[r] = (saved[r] p + w[r] - avg) / (p + 1), p = sqrt(past_j / cur_j), when r was
//   consolidated before (row_weight[r] = p >= 0), else saved[r] = w[r] - avg (row_weight < 0).
#include <cstdint>

#include "core/device.h"

namespace ar1::kernels {

struct CwrDesc {
  int64_t rows = 0;      // trained rows listed in `row_index`
  int64_t features = 0;  // entries per row
};

// saved, w: [classes, features]; row_index (i64) and row_weight (f64): [rows], on `device`.
void cwr_consolidate(Device device, float* saved, const float* w, const int64_t* row_index,
                     const double* row_weight, const CwrDesc& desc);

namespace cpu {
void cwr_consolidate(float* saved, const float* w, const int64_t* row_index,
                     const double* row_weight, const CwrDesc& desc);
}  // namespace cpu
namespace cuda {
void cwr_consolidate(Device device, float* saved, const float* w, const int64_t* row_index,
                     const double* row_weight, const CwrDesc& desc);
}  // namespace cuda

}  // namespace ar1::kernels
