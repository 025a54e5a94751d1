#include "bench/gpu_roofline.h"

#include <algorithm>
#include <string>

#include <cuda_runtime.h>

#include "core/error.h"
#include "kernels/device_runtime.h"

namespace ar1::bench {

namespace {

constexpr int kChains = 8;  // independent FMA chains per thread: enough to hide the latency

// Each thread: kChains accumulators, `rounds` x kChains FMAs; the result is written so the
// compiler keeps the work.
__global__ void fma_probe(float* out, int rounds, float a, float b) {
  float acc[kChains];
#pragma unroll
  for (int k = 0; k < kChains; ++k) acc[k] = static_cast<float>(threadIdx.x + k);
  for (int r = 0; r < rounds; ++r) {
#pragma unroll
    for (int k = 0; k < kChains; ++k) acc[k] = fmaf(acc[k], a, b);
  }
  float s = 0.f;
#pragma unroll
  for (int k = 0; k < kChains; ++k) s += acc[k];
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

__global__ void triad_probe(float* a, const float* b, const float* c, float s, size_t n) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n; i += stride) {
    a[i] = b[i] + s * c[i];
  }
}

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    cudaGetLastError();
    AR1_FAIL("[gpu roofline] ", what, " failed: ", cudaGetErrorString(err));
  }
}

}  // namespace

GpuTimer::GpuTimer(Device gpu) : gpu_(gpu) {
  kernels::device_memory(gpu);  // checks the device and makes it current
  check(cudaEventCreate(reinterpret_cast<cudaEvent_t*>(&start_)), "cudaEventCreate");
  check(cudaEventCreate(reinterpret_cast<cudaEvent_t*>(&stop_)), "cudaEventCreate");
}

GpuTimer::~GpuTimer() {
  cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
}

void GpuTimer::start() {
  check(cudaEventRecord(static_cast<cudaEvent_t>(start_), static_cast<cudaStream_t>(kernels::compute_stream(gpu_))),
        "cudaEventRecord");
}

double GpuTimer::stop_ms() {
  check(cudaEventRecord(static_cast<cudaEvent_t>(stop_), static_cast<cudaStream_t>(kernels::compute_stream(gpu_))),
        "cudaEventRecord");
  check(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)),
        "cudaEventElapsedTime");
  return ms;
}

GpuRoof measure_gpu_roof(Device gpu, double seconds) {
  const auto stream = static_cast<cudaStream_t>(kernels::compute_stream(gpu));
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, gpu.index), "cudaGetDeviceProperties");
  GpuRoof roof;
  roof.name = std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) +
              ", " + std::to_string(p.multiProcessorCount) + " SMs)";
  GpuTimer timer(gpu);

  // FMA: 8 blocks of 256 threads per SM, rounds sized from a first short launch.
  const int threads = 256, blocks = p.multiProcessorCount * 8;
  float* out = nullptr;
  check(cudaMalloc(&out, sizeof(float) * threads * blocks), "cudaMalloc");
  int rounds = 1 << 12;
  auto fma_once = [&](int r) {
    timer.start();
    fma_probe<<<blocks, threads, 0, stream>>>(out, r, 0.999f, 0.001f);
    check(cudaGetLastError(), "fma probe launch");
    return timer.stop_ms();
  };
  fma_once(rounds);  // warm-up
  const double first = std::max(fma_once(rounds), 1e-3);
  rounds = static_cast<int>(std::clamp(rounds * (seconds * 1e3 / 3) / first, 1.0 * rounds, 1e8));
  for (int rep = 0; rep < 3; ++rep) {
    const double ms = fma_once(rounds);
    const double flops = 2.0 * kChains * rounds * static_cast<double>(threads) * blocks;
    roof.fma_gflops = std::max(roof.fma_gflops, flops / (ms * 1e-3) * 1e-9);
  }
  cudaFree(out);

  // Triad over 3 x 256 MiB.
  const size_t n = (size_t{256} << 20) / sizeof(float);
  float *a = nullptr, *b = nullptr, *c = nullptr;
  check(cudaMalloc(&a, n * sizeof(float)), "cudaMalloc");
  check(cudaMalloc(&b, n * sizeof(float)), "cudaMalloc");
  check(cudaMalloc(&c, n * sizeof(float)), "cudaMalloc");
  cudaMemsetAsync(b, 0, n * sizeof(float), stream);
  cudaMemsetAsync(c, 0, n * sizeof(float), stream);
  const int tblocks = p.multiProcessorCount * 4;
  for (int rep = 0; rep < 4; ++rep) {
    timer.start();
    triad_probe<<<tblocks, 1024, 0, stream>>>(a, b, c, 1.5f, n);
    check(cudaGetLastError(), "triad probe launch");
    const double ms = timer.stop_ms();
    if (rep > 0) roof.triad_gbs = std::max(roof.triad_gbs, 3.0 * n * sizeof(float) / (ms * 1e-3) * 1e-9);
  }
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
  return roof;
}

}  // namespace ar1::bench
