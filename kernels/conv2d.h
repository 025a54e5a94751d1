#pragma once
// 2-D convolution, no bias: dense (groups = 1), depthwise (groups = c_in = c_out) and
// pointwise (1x1). All buffers are dense f32 in NCHW order:
//   x [n, c_in, h, w], w [c_out, c_in / groups, kh, kw], y [n, c_out, oh, ow].
// Backends implement the three functions below; kernels are pure: outputs first, then inputs,
// then the descriptor; the output is overwritten (never accumulated into).
#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/device.h"
#include "core/hd.h"

namespace ar1::kernels {

struct ConvDesc {
  int64_t n = 0, c_in = 0, h = 0, w = 0;
  int64_t c_out = 0, kh = 0, kw = 0;
  int64_t stride = 1, pad = 0, groups = 1;
  // x, y, dx and dy in channels-last order [N, H, W, C] (core/memory_format.h) instead of
  // [N, C, H, W]; the weights are always [C_out, C_in/groups, KH, KW].
  bool channels_last = false;
  // Forward only, fused after the convolution: y += bias[c_out] (the caller passes bias), then
  // ReLU when relu is set too. Folding an evaluation-mode Batch Renormalization into the
  // weights and this bias saves it a pass over the output (nn::conv2d_affine).
  bool bias = false;
  bool relu = false;
  // The convolution's inputs are rounded to bfloat16 inside the kernel (kernels/precision.h);
  // buffers stay f32. CPU only.
  bool bf16 = false;

  AR1_HD int64_t oh() const { return (h + 2 * pad - kh) / stride + 1; }
  AR1_HD int64_t ow() const { return (w + 2 * pad - kw) / stride + 1; }
  friend bool operator==(const ConvDesc&, const ConvDesc&) = default;
};

struct ConvDescHash {
  size_t operator()(const ConvDesc& d) const {
    size_t h = 0;
    for (int64_t v : {d.n, d.c_in, d.h, d.w, d.c_out, d.kh, d.kw, d.stride, d.pad, d.groups,
                      static_cast<int64_t>(d.channels_last), static_cast<int64_t>(d.bias),
                      static_cast<int64_t>(d.relu), static_cast<int64_t>(d.bf16)}) {
      h = h * 1000003u ^ std::hash<int64_t>{}(v);
    }
    return h;
  }
};

// Dispatch: runs the backend of `device`.
// bias: [c_out], given exactly when d.bias is set.
void conv2d_forward(Device device, float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias = nullptr);
void conv2d_backward_data(Device device, float* dx, const float* dy, const float* w,
                          const ConvDesc& d);
void conv2d_backward_weights(Device device, float* dw, const float* dy, const float* x,
                             const ConvDesc& d);

// The backward of a convolution whose output y went through a ReLU (conv2d_batch_renorm_eval),
// fused into one pass over the gradient where a kernel does that: with gm = dy where y > 0,
// else +0,
//   dx = conv2d_backward_data(gm), dw = conv2d_backward_weights(gm, x) (either may be null),
//   db = the per-channel sums of gm, as batch_renorm_backward's dbeta in evaluation,
// each the same bits as those unfused steps, without writing gm. Returns false, and computes
// nothing, where no fused kernel serves (the GPU, oneDNN's set, other shapes): then the caller
// runs the steps.
bool conv2d_relu_backward(Device device, float* dx, float* dw, float* db, const float* dy,
                          const float* y, const float* x, const float* w, const ConvDesc& d);

// conv2d_forward with the weights read as w[o] * w_scale[o] per output channel, one rounded
// multiply each: the bits of folding the scale into them first (conv2d_affine's folded
// BatchReNorm), without writing the folded weights. Returns false, computing nothing, where no
// kernel reads them so (the GPU, oneDNN's set, NCHW, bf16): then fold and call conv2d_forward.
bool conv2d_forward_scaled(Device device, float* y, const float* x, const float* w,
                           const float* w_scale, const ConvDesc& d, const float* bias = nullptr);

namespace cpu {
// The CPU convolutions of the kernel set in use (kernels/cpu_kernels.h).
void conv2d_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias = nullptr);
void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d);
void conv2d_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d);

namespace portable {
void conv2d_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias);
void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d);
void conv2d_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d);
bool conv2d_relu_backward(float* dx, float* dw, float* db, const float* dy, const float* y,
                          const float* x, const float* w, const ConvDesc& d);
bool conv2d_forward_scaled(float* y, const float* x, const float* w, const float* w_scale,
                           const ConvDesc& d, const float* bias);
}  // namespace portable

// Defined by kernels/cpu/onednn/, or by kernels/cpu/no_onednn/ where this build has no oneDNN.
namespace onednn {
void conv2d_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias);
void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d);
void conv2d_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d);
}  // namespace onednn
}  // namespace cpu

namespace cuda {
void conv2d_forward(Device device, float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias);
void conv2d_backward_data(Device device, float* dx, const float* dy, const float* w,
                          const ConvDesc& d);
void conv2d_backward_weights(Device device, float* dw, const float* dy, const float* x,
                             const ConvDesc& d);
}  // namespace cuda

// Naive loops, test oracles only (kernels/cpu/reference/, linked into tests, not the product).
namespace reference {
void conv2d_forward(float* y, const float* x, const float* w, const ConvDesc& d);
void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d);
void conv2d_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d);
}  // namespace reference

}  // namespace ar1::kernels
