// y[i] = value: the first CUDA kernel, which proves the CUDA build and the dispatch seam.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ar1::kernels::cuda {

namespace {
__global__ void fill_kernel(float* y, float value, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] = value;
  }
}
}  // namespace

void fill(float* y, float value, int64_t n) {
  if (n <= 0) return;
  const int threads = 256;
  const int64_t wanted = (n + threads - 1) / threads;
  const int blocks = static_cast<int>(wanted < 65535 ? wanted : 65535);
  fill_kernel<<<blocks, threads>>>(y, value, n);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("[fill] CUDA launch failed: ") + cudaGetErrorString(err));
  }
}

}  // namespace ar1::kernels::cuda
