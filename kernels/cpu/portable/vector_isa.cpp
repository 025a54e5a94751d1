#include "kernels/cpu/portable/vector_isa.h"

#include <atomic>
#include <stdexcept>

namespace ar1::kernels::cpu::portable {

namespace {

bool runs_here(VectorIsa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case VectorIsa::avx512:
      __builtin_cpu_init();  // may run before libgcc's own constructor (a static initialiser)
      return __builtin_cpu_supports("avx512f");
    case VectorIsa::avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if defined(__ARM_NEON) && defined(__ARM_FEATURE_FMA)
    case VectorIsa::neon: return true;
#endif
    case VectorIsa::scalar: return true;
    default: return false;
  }
}

constexpr VectorIsa kAll[] = {VectorIsa::avx512, VectorIsa::avx2, VectorIsa::neon,
                              VectorIsa::scalar};

VectorIsa widest_here() {
  for (VectorIsa isa : kAll) {
    if (runs_here(isa)) return isa;
  }
  return VectorIsa::scalar;
}

// A function's static, so that a kernel called from another file's static initialiser still
// finds it set.
std::atomic<VectorIsa>& chosen() {
  static std::atomic<VectorIsa> isa{widest_here()};
  return isa;
}

}  // namespace

VectorIsa vector_isa() { return chosen().load(std::memory_order_relaxed); }

const char* vector_isa_name(VectorIsa isa) {
  switch (isa) {
    case VectorIsa::avx512: return "avx512";
    case VectorIsa::avx2: return "avx2";
    case VectorIsa::neon: return "neon";
    case VectorIsa::scalar: return "scalar";
  }
  return "?";
}

std::vector<VectorIsa> vector_isas() {
  std::vector<VectorIsa> out;
  for (VectorIsa isa : kAll) {
    if (runs_here(isa)) out.push_back(isa);
  }
  return out;
}

void set_vector_isa(std::string_view name) {
  std::string known;
  for (VectorIsa isa : vector_isas()) {
    if (name == vector_isa_name(isa)) {
      chosen().store(isa, std::memory_order_relaxed);
      return;
    }
    known += (known.empty() ? "" : ", ") + std::string(vector_isa_name(isa));
  }
  throw std::invalid_argument("portable kernels: no vector instruction set '" +
                              std::string(name) + "' runs on this CPU (this one runs: " +
                              known + ")");
}

}  // namespace ar1::kernels::cpu::portable
