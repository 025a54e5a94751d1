#pragma once
// Device memory and discovery. CPU memory comes from core's Storage; CUDA memory from the
// CUDA backend when this build has one.
#include <cstddef>
#include <string>
#include <vector>

#include "core/device.h"

namespace ar1::kernels {

// Number of usable CUDA devices: 0 in a build without CUDA or on a machine without a GPU.
int cuda_device_count();
// Whether this build compiled the CUDA backend.
bool built_with_cuda();
// "name (compute capability, memory)" of every usable CUDA device.
std::vector<std::string> cuda_device_names();
// The instruction set oneDNN's CPU kernels use on this machine (e.g. "avx512_core_bf16").
std::string cpu_isa_name();
// Throws a clear error when `device` cannot be used here (no CUDA build, no GPU, bad index).
void require_device(Device device);

void* device_allocate(Device device, size_t bytes);
// A plain function that frees memory from device_allocate(device, ...), for Storage::wrap.
void (*device_deleter(Device device))(void*);
// Copies bytes between any two devices.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

namespace cuda {
int device_count();
std::vector<std::string> device_names();
void* allocate(size_t bytes);
void free(void* p);
void copy_bytes(void* dst, bool dst_on_device, const void* src, bool src_on_device,
                size_t bytes);
}  // namespace cuda

}  // namespace ar1::kernels
