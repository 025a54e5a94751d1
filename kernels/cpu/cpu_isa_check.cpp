// check_compiled_isa, called at load time by dispatch.cpp, refuses with one line naming the fix
// to run kernels compiled for an instruction set this CPU lacks (AR1_CPU_ISA=x86-64-v4 on a
// CPU without AVX-512), where the first kernel would otherwise die of SIGILL. This file alone
// is compiled for the baseline ISA (kernels/CMakeLists.txt), so the check runs anywhere. Exit
// status 77: CTest reports such a build's tests as Skipped.
#include <cstdio>
#include <cstdlib>

#include "kernels/device.h"

namespace ar1::kernels::cpu {

namespace {

#if defined(__x86_64__)
bool cpu_has_compiled_isa() {
  // AR1_KERNELS_* are set from AR1_CPU_ISA: what the kernels' code may use.
  bool ok = true;
#if AR1_KERNELS_AVX2
  ok = ok && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if AR1_KERNELS_AVX512
  ok = ok && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#endif
  return ok;
}
#else
bool cpu_has_compiled_isa() { return true; }
#endif

}  // namespace

void check_compiled_isa() {
  if (cpu_has_compiled_isa()) return;
  std::fprintf(stderr,
               "ar1: this build's kernels are compiled for %s, which this CPU does not "
               "support: rebuild with -DAR1_CPU_ISA=x86-64-v3\n",
               AR1_CPU_ISA);
  std::_Exit(77);
}

}  // namespace ar1::kernels::cpu
