// The instruction set the portable kernels were compiled for (AR1_CPU_ISA in the top-level
// CMakeLists.txt) and the vector instruction set picked at load time (vector_isa.h), for
// `ar1 info`. Both change their speed, never their bits.
#include <string>

#include "kernels/cpu/portable/vector_isa.h"
#include "kernels/device.h"

namespace ar1::kernels::cpu::portable {

std::string isa_name() {
#if defined(__AVX512F__)
  const std::string compiled = "avx512 (compiled for " AR1_CPU_ISA ")";
#elif defined(__AVX2__) && defined(__FMA__)
  const std::string compiled = "avx2+fma (compiled for " AR1_CPU_ISA ")";
#elif defined(__ARM_NEON)
  const std::string compiled = "neon (compiled for " AR1_CPU_ISA ")";
#else
  const std::string compiled = "scalar (compiled for " AR1_CPU_ISA ")";
#endif
  return compiled + ", GEMM and depthwise in " + vector_isa_name(vector_isa());
}

}  // namespace ar1::kernels::cpu::portable
