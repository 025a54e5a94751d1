// What oneDNN runs on here, for `ar1 info`.
#include <dnnl.hpp>

#include <string>

#include "kernels/device.h"

namespace ar1::kernels {

bool built_with_onednn() { return true; }

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  const std::string hash = v->hash != nullptr ? v->hash : "N/A";
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + (hash == "N/A" ? "" : " (commit " + hash + ")");
}

namespace cpu::onednn {

std::string isa_name() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    default: return "generic";
  }
}

}  // namespace cpu::onednn

}  // namespace ar1::kernels
