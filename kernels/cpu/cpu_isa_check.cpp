// check_compiled_isa, run at load time (a constructor of priority 101; dispatch.cpp refers to it
// so that the linker keeps this file), refuses with one line naming the fix to run kernels
// compiled for an instruction set this CPU lacks (AR1_CPU_ISA=x86-64-v4 on a CPU without
// AVX-512), where the first kernel would otherwise die of SIGILL. This file alone is compiled
// for the baseline ISA (kernels/CMakeLists.txt), so the check runs anywhere. Exit status 77:
// CTest reports such a build's tests as Skipped.
#include <cstdio>
#include <cstdlib>

#include "kernels/device.h"

namespace ar1::kernels::cpu {

namespace {

#if defined(__x86_64__)
bool cpu_has_compiled_isa() {
  // Run before libgcc's own constructor may have filled in the CPU's features.
  __builtin_cpu_init();
  // GCC's names for the x86-64 levels cover all they imply (v3: AVX2, FMA, BMI1/2, F16C,
  // LZCNT, MOVBE; v4: AVX-512 F, BW, CD, DQ, VL).
#if AR1_KERNELS_X86_LEVEL == 4
  return __builtin_cpu_supports("x86-64-v4");
#elif AR1_KERNELS_X86_LEVEL == 3
  return __builtin_cpu_supports("x86-64-v3");
#elif AR1_KERNELS_X86_LEVEL == 2
  return __builtin_cpu_supports("x86-64-v2");
#else
  return true;
#endif
}
#else
bool cpu_has_compiled_isa() { return true; }
#endif

// Before any other static initialiser of the program (priority 101, the first user one), so
// that no code compiled for the missing instruction set runs first.
__attribute__((constructor(101))) void check_at_load() { check_compiled_isa(); }

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
