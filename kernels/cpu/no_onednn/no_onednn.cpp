// The `onednn` CPU kernel set of a build without oneDNN (-DAR1_ONEDNN=OFF): set_cpu_kernels
// refuses it, so these entry points are reached only by a direct call, which gets the fix.
#include "core/error.h"
#include "kernels/conv2d.h"
#include "kernels/device.h"

namespace ar1::kernels {

bool built_with_onednn() { return false; }

std::string onednn_version() { return {}; }

namespace cpu::onednn {

namespace {
[[noreturn]] void no_onednn() {
  AR1_FAIL("[conv2d] this build has no oneDNN (-DAR1_ONEDNN=OFF): use the portable CPU "
           "kernels, or rebuild with -DAR1_ONEDNN=ON");
}
}  // namespace

std::string isa_name() { return {}; }

void conv2d_forward(float*, const float*, const float*, const ConvDesc&, const float*) {
  no_onednn();
}
void conv2d_backward_data(float*, const float*, const float*, const ConvDesc&) { no_onednn(); }
void conv2d_backward_weights(float*, const float*, const float*, const ConvDesc&) {
  no_onednn();
}

}  // namespace cpu::onednn

}  // namespace ar1::kernels
