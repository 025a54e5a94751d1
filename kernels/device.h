#pragma once
// Devices as the kernels see them: discovery, the layout each device's ops want, raw copies.
// Device memory itself comes from core (Storage::allocate and the device's allocator, which
// the CUDA backend registers with core when this library is linked).
#include <cstddef>
#include <string>
#include <vector>

#include "core/device.h"

namespace ar1::kernels {

// Whether this build compiled the CUDA backend.
bool built_with_cuda();
// Whether this build has oneDNN (-DAR1_ONEDNN=ON, the default), and so the `onednn` CPU kernel
// set beside the portable one (kernels/cpu_kernels.h).
bool built_with_onednn();
// Number of usable CUDA devices: 0 in a build without CUDA or on a machine without a GPU.
int cuda_device_count();
// "name (compute capability, memory)" of every usable CUDA device.
std::vector<std::string> cuda_device_names();
// "driver 13.0, runtime 13.0, cuDNN 9.19.0" ("" in a build without CUDA; a missing driver
// reads "driver none").
std::string cuda_versions();
// The instruction set the CPU convolutions of the kernel set in use run on: oneDNN's choice on
// this machine (e.g. "avx512_core_bf16"), or the one the portable kernels were compiled for.
std::string cpu_isa_name();
// oneDNN's version as "3.0.0 (commit ...)", or "" in a build without oneDNN.
std::string onednn_version();
// Throws a clear error when `device` cannot be used here (no CUDA build, no GPU, bad index).
void require_device(Device device);

// The layout in which a device's convolutions, Batch Renormalization and ReLU run without
// reorders: nn asks this instead of testing the device.
enum class ActivationLayout { plain, channels_last };
ActivationLayout preferred_activation_layout(Device device);

// Copies bytes between any two devices (a device -> host copy waits for the device).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

namespace cpu {
// Ends the process (exit status 77, one line naming the fix) where this CPU lacks the
// instruction set the kernels were compiled for (AR1_CPU_ISA); dispatch.cpp calls it at load.
void check_compiled_isa();
}  // namespace cpu
namespace cpu::portable {
std::string isa_name();
}  // namespace cpu::portable
namespace cpu::onednn {
std::string isa_name();  // "" in a build without oneDNN
}  // namespace cpu::onednn

namespace cuda {
// Defined by the CUDA backend, or by kernels/no_cuda/ where this build has none.
bool built();
int device_count();
std::vector<std::string> device_names();
std::string versions();
void require_device(Device device);
ActivationLayout preferred_activation_layout();
// Registers the CUDA backend's allocator and copies with core (core/device_backend.h).
void register_backend();
}  // namespace cuda

}  // namespace ar1::kernels
