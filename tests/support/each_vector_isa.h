#pragma once
// Runs a test body once with each vector instruction set the portable kernels can use on this
// CPU (AVX-512, AVX2 and plain C++ on an AVX-512 machine; NEON and plain C++ on ARM64), the
// default one again after: the same bits are promised for all of them, and the default is only
// the widest.
#include <doctest/doctest.h>

#include <string>

#include "kernels/cpu/portable/vector_isa.h"

namespace ar1::testing {

class ChosenVectorIsa {
 public:
  explicit ChosenVectorIsa(kernels::cpu::portable::VectorIsa isa)
      : previous_(kernels::cpu::portable::vector_isa()) {
    kernels::cpu::portable::set_vector_isa(kernels::cpu::portable::vector_isa_name(isa));
  }
  ~ChosenVectorIsa() {
    kernels::cpu::portable::set_vector_isa(kernels::cpu::portable::vector_isa_name(previous_));
  }
  ChosenVectorIsa(const ChosenVectorIsa&) = delete;
  ChosenVectorIsa& operator=(const ChosenVectorIsa&) = delete;

 private:
  kernels::cpu::portable::VectorIsa previous_;
};

template <class F>
void for_each_vector_isa(F&& body) {
  for (const kernels::cpu::portable::VectorIsa isa : kernels::cpu::portable::vector_isas()) {
    const std::string name = kernels::cpu::portable::vector_isa_name(isa);
    CAPTURE(name);
    const ChosenVectorIsa chosen(isa);
    body();
  }
}

}  // namespace ar1::testing
