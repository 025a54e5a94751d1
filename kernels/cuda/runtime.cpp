// Host-side CUDA runtime calls: device discovery, memory, copies.
#include <cuda_runtime.h>

#include "core/error.h"
#include "kernels/device.h"

namespace ar1::kernels::cuda {

namespace {
void check(cudaError_t err, const char* what) {
  AR1_CHECK(err == cudaSuccess, "[cuda] ", what, " failed: ", cudaGetErrorString(err));
}
}  // namespace

int device_count() {
  int count = 0;
  // No driver or no GPU is not an error here: it means zero devices.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error
    return 0;
  }
  return count;
}

std::vector<std::string> device_names() {
  std::vector<std::string> names;
  for (int i = 0; i < device_count(); ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    names.push_back(std::string(p.name) + " (sm_" + std::to_string(p.major) +
                    std::to_string(p.minor) + ", " +
                    std::to_string(p.totalGlobalMem >> 20) + " MiB)");
  }
  return names;
}

void* allocate(size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes == 0 ? 1 : bytes), "cudaMalloc");
  return p;
}

void free(void* p) { cudaFree(p); }

void copy_bytes(void* dst, bool dst_on_device, const void* src, bool src_on_device,
                size_t bytes) {
  const cudaMemcpyKind kind = dst_on_device
                                  ? (src_on_device ? cudaMemcpyDeviceToDevice
                                                   : cudaMemcpyHostToDevice)
                                  : (src_on_device ? cudaMemcpyDeviceToHost
                                                   : cudaMemcpyHostToHost);
  check(cudaMemcpy(dst, src, bytes, kind), "cudaMemcpy");
}

}  // namespace ar1::kernels::cuda
