#include "kernels/pooling.h"

#include <algorithm>

namespace ar1::kernels::cpu {

void avg_pool2d_forward(float* y, const float* x, const AvgPoolDesc& d) {
  const int64_t oh = d.oh(), ow = d.ow();
  const float scale = 1.f / static_cast<float>(d.kh * d.kw);
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < d.n * d.c; ++plane) {
    const float* xp = x + plane * d.h * d.w;
    float* yp = y + plane * oh * ow;
    for (int64_t i = 0; i < oh; ++i) {
      for (int64_t j = 0; j < ow; ++j) {
        float acc = 0.f;
        for (int64_t a = 0; a < d.kh; ++a) {
          const float* row = xp + (i * d.stride + a) * d.w + j * d.stride;
          for (int64_t b = 0; b < d.kw; ++b) acc += row[b];
        }
        yp[i * ow + j] = acc * scale;
      }
    }
  }
}

void avg_pool2d_backward(float* dx, const float* dy, const AvgPoolDesc& d) {
  const int64_t oh = d.oh(), ow = d.ow();
  const float scale = 1.f / static_cast<float>(d.kh * d.kw);
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < d.n * d.c; ++plane) {
    float* dxp = dx + plane * d.h * d.w;
    const float* dyp = dy + plane * oh * ow;
    std::fill(dxp, dxp + d.h * d.w, 0.f);
    for (int64_t i = 0; i < oh; ++i) {
      for (int64_t j = 0; j < ow; ++j) {
        const float g = dyp[i * ow + j] * scale;
        for (int64_t a = 0; a < d.kh; ++a) {
          float* row = dxp + (i * d.stride + a) * d.w + j * d.stride;
          for (int64_t b = 0; b < d.kw; ++b) row[b] += g;
        }
      }
    }
  }
}

}  // namespace ar1::kernels::cpu
