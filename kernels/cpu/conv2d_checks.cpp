#include "kernels/cpu/conv2d_checks.h"

#include "core/error.h"

namespace ar1::kernels::cpu {

void check_conv_desc(const char* op, const ConvDesc& d) {
  AR1_CHECK(d.n >= 0 && d.c_in > 0 && d.h > 0 && d.w > 0 && d.c_out > 0 && d.kh > 0 &&
                d.kw > 0,
            "[", op, "] expects positive channels, spatial and kernel sizes (n >= 0), got n=",
            d.n, " c_in=", d.c_in, " h=", d.h, " w=", d.w, " c_out=", d.c_out, " kh=", d.kh,
            " kw=", d.kw);
  AR1_CHECK(d.stride > 0 && d.pad >= 0, "[", op, "] expects stride >= 1 and pad >= 0, got stride=",
            d.stride, " pad=", d.pad);
  AR1_CHECK(d.groups > 0 && d.c_in % d.groups == 0 && d.c_out % d.groups == 0, "[", op,
            "] expects groups to divide c_in and c_out, got groups=", d.groups,
            " c_in=", d.c_in, " c_out=", d.c_out);
  AR1_CHECK(!d.relu || d.bias, "[", op, "] a fused ReLU comes with a bias (ConvDesc::bias)");
  AR1_CHECK(d.oh() > 0 && d.ow() > 0, "[", op, "] the kernel ", d.kh, "x", d.kw,
            " does not fit the padded input ", d.h, "x", d.w, " (pad ", d.pad,
            "): increase pad or use a smaller kernel");
}

void check_conv_forward(const ConvDesc& d, const float* bias) {
  check_conv_desc("conv2d_forward", d);
  AR1_CHECK(d.bias == (bias != nullptr), "[conv2d_forward] ConvDesc::bias is ", d.bias,
            " but a bias pointer was ", bias != nullptr ? "given" : "not given");
}

void check_conv_backward(const char* op, const ConvDesc& d) {
  check_conv_desc(op, d);
  AR1_CHECK(!d.bias, "[", op, "] a fused bias is forward only");
}

}  // namespace ar1::kernels::cpu
