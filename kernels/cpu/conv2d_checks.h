#pragma once
// The checks every CPU convolution backend (kernels/cpu/onednn/ or kernels/cpu/portable/) runs on a
// ConvDesc before it touches a buffer, so both builds refuse the same descriptors with the
// same messages.
#include "kernels/conv2d.h"

namespace ar1::kernels::cpu {

// Throws "[<op>] ..." naming the bad field and the fix: non-positive sizes, stride < 1,
// pad < 0, groups that do not divide the channels, a ReLU without a bias, a kernel larger
// than the padded input.
void check_conv_desc(const char* op, const ConvDesc& d);

// check_conv_desc for each entry point, plus its bias rule: forward gets a bias pointer
// exactly when ConvDesc::bias is set; the backward ops take no fused bias.
void check_conv_forward(const ConvDesc& d, const float* bias);
void check_conv_backward(const char* op, const ConvDesc& d);

}  // namespace ar1::kernels::cpu
