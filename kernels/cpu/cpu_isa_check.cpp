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
#if defined(__clang__)
// clang (14, the sanitizer builds) knows neither the level names nor F16C, LZCNT and MOVBE: it
// checks the features it can name, which no CPU has without the rest of their level.
bool supports_x86_level(int level) {
  if (level >= 2 && !(__builtin_cpu_supports("popcnt") && __builtin_cpu_supports("ssse3") &&
                      __builtin_cpu_supports("sse4.2")))
    return false;
  if (level >= 3 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                      __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2")))
    return false;
  if (level >= 4 && !(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vl")))
    return false;
  return true;
}
#else
// GCC's names for the x86-64 levels cover all they imply (v3: AVX2, FMA, BMI1/2, F16C, LZCNT,
// MOVBE; v4: AVX-512 F, BW, CD, DQ, VL).
bool supports_x86_level(int level) {
  switch (level) {
    case 4: return __builtin_cpu_supports("x86-64-v4");
    case 3: return __builtin_cpu_supports("x86-64-v3");
    case 2: return __builtin_cpu_supports("x86-64-v2");
    default: return true;
  }
}
#endif

bool cpu_has_compiled_isa() {
  // Run before libgcc's own constructor may have filled in the CPU's features.
  __builtin_cpu_init();
  return supports_x86_level(AR1_KERNELS_X86_LEVEL);
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
