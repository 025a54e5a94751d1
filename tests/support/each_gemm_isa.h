#pragma once
// Runs a test body once with each portable GEMM micro-kernel this CPU runs (AVX-512 and AVX2 on
// an AVX-512 machine, NEON on ARM64, plain C++ everywhere), the default one again after: the
// same bits are promised for all of them, and the default is only the widest.
#include <doctest/doctest.h>

#include <string>

#include "kernels/cpu/portable/gemm.h"

namespace ar1::testing {

class ChosenGemmIsa {
 public:
  explicit ChosenGemmIsa(const std::string& isa)
      : previous_(kernels::cpu::portable::gemm_isa()) {
    kernels::cpu::portable::set_gemm_isa(isa);
  }
  ~ChosenGemmIsa() { kernels::cpu::portable::set_gemm_isa(previous_); }
  ChosenGemmIsa(const ChosenGemmIsa&) = delete;
  ChosenGemmIsa& operator=(const ChosenGemmIsa&) = delete;

 private:
  std::string previous_;
};

template <class F>
void for_each_gemm_isa(F&& body) {
  for (const std::string& isa : kernels::cpu::portable::gemm_isas()) {
    CAPTURE(isa);
    const ChosenGemmIsa chosen(isa);
    body();
  }
}

}  // namespace ar1::testing
