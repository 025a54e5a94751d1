// Naive convolution loops: the test oracles for every conv2d backend. Direct transcriptions of
// the definition, accumulated in double; no speed, no cleverness.
//   y[b, o, i, j] = sum_{c in group(o), p, q}
//                   x[b, c, i*s - pad + p, j*s - pad + q] * w[o, c', p, q]
// where group(o) = o / (c_out/g) and c' = c - group(o) * (c_in/g) is the channel within it.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/conv2d.h"

namespace ar1::kernels::reference {

namespace {

// Calls f(xi, wi, yi) for every multiply of the convolution whose input tap lies inside the
// image (padding taps are zero), with xi / wi / yi the flat x (NCHW) / w (OIHW) / y (NCHW)
// indices. The three ops are the same seven loops with a different accumulation target.
template <class F>
void for_each_tap(const ConvDesc& d, F&& f) {
  const int64_t oh = d.oh(), ow = d.ow();
  const int64_t cin_g = d.c_in / d.groups, cout_g = d.c_out / d.groups;
  for (int64_t b = 0; b < d.n; ++b)
    for (int64_t o = 0; o < d.c_out; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j)
          for (int64_t cg = 0; cg < cin_g; ++cg)
            for (int64_t p = 0; p < d.kh; ++p)
              for (int64_t q = 0; q < d.kw; ++q) {
                const int64_t r = i * d.stride - d.pad + p, s = j * d.stride - d.pad + q;
                if (r < 0 || r >= d.h || s < 0 || s >= d.w) continue;
                const int64_t c = (o / cout_g) * cin_g + cg;
                const int64_t xi = ((b * d.c_in + c) * d.h + r) * d.w + s;
                const int64_t wi = ((o * cin_g + cg) * d.kh + p) * d.kw + q;
                const int64_t yi = ((b * d.c_out + o) * oh + i) * ow + j;
                f(xi, wi, yi);
              }
}

}  // namespace

void conv2d_forward(float* y, const float* x, const float* w, const ConvDesc& d) {
  std::vector<double> acc(d.n * d.c_out * d.oh() * d.ow(), 0.0);
  for_each_tap(d, [&](int64_t xi, int64_t wi, int64_t yi) {
    acc[yi] += static_cast<double>(x[xi]) * w[wi];
  });
  std::copy(acc.begin(), acc.end(), y);
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d) {
  std::vector<double> acc(d.n * d.c_in * d.h * d.w, 0.0);
  for_each_tap(d, [&](int64_t xi, int64_t wi, int64_t yi) {
    acc[xi] += static_cast<double>(dy[yi]) * w[wi];
  });
  std::copy(acc.begin(), acc.end(), dx);
}

void conv2d_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d) {
  std::vector<double> acc(d.c_out * (d.c_in / d.groups) * d.kh * d.kw, 0.0);
  for_each_tap(d, [&](int64_t xi, int64_t wi, int64_t yi) {
    acc[wi] += static_cast<double>(dy[yi]) * x[xi];
  });
  std::copy(acc.begin(), acc.end(), dw);
}

}  // namespace ar1::kernels::reference
