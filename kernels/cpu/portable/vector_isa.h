#pragma once
// The vector instruction set the portable kernels run on: the widest this CPU has among those
// the build compiled ("avx512", "avx2", "neon", "scalar"), picked at load time, whatever the
// rest of the library was compiled for (an x86-64-v3 build still runs its GEMM and depthwise
// loops in AVX-512 where the CPU has it). It changes speed only, never a bit: every output is
// the same fma chain in every set.
#include <string>
#include <string_view>
#include <vector>

namespace ar1::kernels::cpu::portable {

enum class VectorIsa { avx512, avx2, neon, scalar };

VectorIsa vector_isa();
const char* vector_isa_name(VectorIsa isa);
// Those this CPU runs, widest first (the last is always scalar).
std::vector<VectorIsa> vector_isas();
// Makes the portable kernels use one of vector_isas() by name (tests compare their bits,
// benchmarks their speed). Not synchronised with running kernels. Throws
// std::invalid_argument, naming the ones this CPU runs, for any other name.
void set_vector_isa(std::string_view name);

}  // namespace ar1::kernels::cpu::portable
