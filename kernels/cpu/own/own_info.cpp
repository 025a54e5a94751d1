// What the CPU backend of a build without oneDNN runs on, for `ar1 info`: the instruction set
// the compiler targeted for kernels/ (kernels/CMakeLists.txt: -march=x86-64-v3), since no
// library picks one at run time here; pointwise_gemm.h's AVX-512 kernel is opt-in on top.
#include "kernels/device.h"

namespace ar1::kernels {

bool built_with_onednn() { return false; }

std::string onednn_version() { return {}; }

std::string cpu_isa_name() {
#if defined(__AVX512F__)
  return "avx512 (as compiled)";
#elif defined(__AVX2__) && defined(__FMA__)
  return "avx2+fma (compiled for x86-64-v3)";
#elif defined(__AVX2__)
  return "avx2 (as compiled)";
#else
  return "generic x86-64 (as compiled)";
#endif
}

}  // namespace ar1::kernels
