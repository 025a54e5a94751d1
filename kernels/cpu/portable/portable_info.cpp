// The instruction set the portable kernels were compiled for (AR1_CPU_ISA in the top-level
// CMakeLists.txt), for `ar1 info`: no library picks one at run time here. It changes their
// speed, never their bits.
#include "kernels/device.h"

namespace ar1::kernels::cpu::portable {

std::string isa_name() {
#if defined(__AVX512F__)
  return "avx512 (compiled for " AR1_CPU_ISA ")";
#elif defined(__AVX2__) && defined(__FMA__)
  return "avx2+fma (compiled for " AR1_CPU_ISA ")";
#elif defined(__ARM_NEON)
  return "neon (compiled for " AR1_CPU_ISA ")";
#else
  return "scalar (compiled for " AR1_CPU_ISA ")";
#endif
}

}  // namespace ar1::kernels::cpu::portable
