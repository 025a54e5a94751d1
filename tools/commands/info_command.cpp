// `ar1 info`: version, build options, backends, the CPU features oneDNN uses, the GPUs found.
#include <cstdio>
#include <iostream>
#include <string>

#include "kernels/cpu_kernels.h"
#include "kernels/device.h"
#include "kernels/threading.h"
#include "run/options.h"
#include "tools/build_info.h"
#include "tools/commands/commands.h"
#include "tools/commands/run_manifest.h"

#ifndef AR1_VERSION
#define AR1_VERSION "unknown"
#endif

namespace ar1::cli {

int info_command(const std::vector<std::string>& args) {
  run::OptionTable table("info", "Print the version, build options, backends and devices.");
  table.add_bool("json", false, "print the machine and build as manifest.json records them",
                 run::OptionGroup::Run);
  const run::ParsedArgs parsed = run::parse_args(table, args);
  if (parsed.help) {
    std::cout << run::help_text(table);
    return 0;
  }
  if (parsed.options.flag("json")) {
    std::cout << machine_description().dump(2) << "\n";
    return 0;
  }
  std::printf("ar1 %s (commit %s)\n", AR1_VERSION, AR1_GIT_COMMIT);
  std::printf("build: C++20, %s, CUDA backend %s\n",
#ifdef NDEBUG
              "Release",
#else
              "Debug",
#endif
              kernels::built_with_cuda() ? "compiled" : "not compiled");
  // The default set, and the portable one (in every build) beside it.
  std::printf("cpu kernels: %s; ISA %s; %d threads\n",
              std::string(kernels::cpu_kernels_name(kernels::cpu_kernels())).c_str(),
              kernels::cpu_isa_name().c_str(), kernels::num_threads());
  if (kernels::cpu_kernels() != kernels::CpuKernels::portable) {
    std::printf("  --cpu-kernels portable: ISA %s, the same bits on every machine\n",
                kernels::cpu::portable::isa_name().c_str());
  }
  if (kernels::built_with_cuda()) std::printf("cuda: %s\n", kernels::cuda_versions().c_str());
  const int gpus = kernels::cuda_device_count();
  std::printf("cuda devices: %d", gpus);
  for (const std::string& name : kernels::cuda_device_names()) std::printf("\n  %s", name.c_str());
  std::printf("\n");
  return 0;
}

}  // namespace ar1::cli
