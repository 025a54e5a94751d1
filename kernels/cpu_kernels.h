#pragma once
// Which set of CPU kernels runs the convolutions: one setting for the process, like the
// thread count, chosen at run time (`ar1 train --cpu-kernels portable|onednn`).
//   portable  our own kernels (kernels/cpu/portable/): every sum in an order that is a function
//             of the shapes alone, so a run gives the same bits on any machine, instruction set
//             and thread count (docs/reproducibility.md). In every build.
//   onednn    oneDNN's convolutions: the default where the build has oneDNN (-DAR1_ONEDNN=ON);
//             the same bits on any thread count, but its kernels, and so the bits, depend on
//             the instruction set oneDNN picks on the machine.
// Every other CPU op (GEMM, Batch ReNorm, pooling, losses, optimisers) is ours in both sets.
#include <string_view>

namespace ar1::kernels {

enum class CpuKernels { portable, onednn };

// Throws naming the fix when `onednn` is asked of a build without oneDNN.
void set_cpu_kernels(CpuKernels k);
// The set in use: oneDNN where built and not changed, portable otherwise.
CpuKernels cpu_kernels();
// The set a process starts with in this build.
CpuKernels default_cpu_kernels();

// "portable" / "onednn", and back (throws on anything else, listing the choices).
std::string_view cpu_kernels_name(CpuKernels k);
CpuKernels parse_cpu_kernels(std::string_view name);

}  // namespace ar1::kernels
