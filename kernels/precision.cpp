#include "kernels/precision.h"

#include <atomic>

#include "core/error.h"

namespace ar1::kernels {

namespace {
std::atomic<Precision> g_conv_precision{Precision::f32};
}  // namespace

bool bf16_convolutions_supported(std::string* why_not) {
  // oneDNN 2.6 has bf16 convolutions from avx512_core up (emulated dot products there, native
  // with avx512_core_bf16 and AMX); on AVX2 it has none.
#if defined(__x86_64__)
  const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  if (!ok && why_not != nullptr) {
    *why_not = "bf16 convolutions need a CPU with AVX-512 (F, BW, VL, DQ), and this one has none";
  }
  return ok;
#else
  if (why_not != nullptr) {
    *why_not = "bf16 convolutions need an x86-64 CPU with AVX-512, and this is not an x86-64 CPU";
  }
  return false;
#endif
}

void set_conv_precision(Precision p) {
  std::string why_not;
  AR1_CHECK(p == Precision::f32 || bf16_convolutions_supported(&why_not), "[precision] ", why_not,
            ": run with --precision f32");
  g_conv_precision.store(p);
}

Precision conv_precision() { return g_conv_precision.load(); }

std::string_view precision_name(Precision p) { return p == Precision::bf16 ? "bf16" : "f32"; }

Precision parse_precision(std::string_view name) {
  if (name == "f32") return Precision::f32;
  if (name == "bf16") return Precision::bf16;
  AR1_FAIL("[precision] unknown precision '", name, "': choose f32 or bf16");
}

}  // namespace ar1::kernels
