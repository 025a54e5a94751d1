#include "kernels/cuda/context.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "kernels/cuda/status.h"
#include "kernels/device.h"

namespace ar1::kernels::cuda {

namespace {
// Host -> device copies larger than this go through the staging buffers in pieces.
constexpr size_t kStagingBytes = size_t{32} << 20;
constexpr int kMaxDevices = 64;
}  // namespace

Scratch::Scratch(Context& ctx, size_t bytes)
    : allocator_(ctx.allocator()), block_(allocator_.allocate(bytes)) {}
Scratch::~Scratch() { allocator_.release(block_); }

Context& Context::get(Device device) {
  // Contexts live for the whole process (never destroyed: tensors held by static objects may be
  // freed after main returns, and the driver may be unloading by then).
  static std::array<std::atomic<Context*>, kMaxDevices> contexts{};
  static std::mutex mutex;
  thread_local int current = -1;  // the device this thread last made current
  const int i = device.index;
  Context* ctx = i >= 0 && i < kMaxDevices ? contexts[static_cast<size_t>(i)].load() : nullptr;
  if (ctx == nullptr) {
    cuda::require_device(device);
    AR1_CHECK(i < kMaxDevices, "[cuda] device index ", i, " beyond ", kMaxDevices);
    std::lock_guard<std::mutex> lock(mutex);
    ctx = contexts[static_cast<size_t>(i)].load();
    if (ctx == nullptr) {
      ctx = new Context(i);
      contexts[static_cast<size_t>(i)].store(ctx);
    }
    current = -1;
  }
  if (current != i) {
    check(cudaSetDevice(i), "cudaSetDevice");
    current = i;
  }
  return *ctx;
}

Context::Context(int index) : index_(index) {
  check(cudaSetDevice(index), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cublasCreate(&cublas_), "cublasCreate");
  check(cublasSetStream(cublas_, stream_), "cublasSetStream");
  check(cudnnCreate(&cudnn_), "cudnnCreate");
  check(cudnnSetStream(cudnn_, stream_), "cudnnSetStream");
  const char* tf32 = std::getenv("AR1_CUDA_TF32");
  tf32_ = tf32 != nullptr && std::string(tf32) == "1";
  // Full fp32 in cuBLAS unless TF32 was asked for: the default math mode never uses TF32 for
  // Sgemm (cublas_api.h), CUBLAS_TF32_TENSOR_OP_MATH allows it.
  check(cublasSetMathMode(cublas_, tf32_ ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
        "cublasSetMathMode");
  size_t free_bytes = 0, total_bytes = 0;
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  allocator_ = std::make_unique<CachingAllocator>(index, stream_, total_bytes / 4);
  for (Staging& s : staging_) check(cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming),
                                    "cudaEventCreate");
}

Context::~Context() {
  for (Staging& s : staging_) {
    if (s.data != nullptr) cudaFreeHost(s.data);
    if (s.done != nullptr) cudaEventDestroy(s.done);
  }
  if (cudnn_ != nullptr) cudnnDestroy(cudnn_);
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void Context::copy_from_host(void* dst, const void* src, size_t bytes) {
  std::lock_guard<std::mutex> lock(staging_mutex_);
  size_t done = 0;
  while (done < bytes) {
    const size_t piece = std::min(kStagingBytes, bytes - done);
    Staging& s = staging_[next_staging_];
    next_staging_ = (next_staging_ + 1) % kStagingSlots;
    // The buffer's previous transfer must have left it before it is overwritten.
    check(cudaEventSynchronize(s.done), "cudaEventSynchronize");
    if (s.bytes < piece) {
      if (s.data != nullptr) check(cudaFreeHost(s.data), "cudaFreeHost");
      s.data = nullptr;
      s.bytes = 0;
      const size_t grown = std::max(piece, size_t{1} << 20);  // at least 1 MiB
      check(cudaMallocHost(&s.data, grown), "cudaMallocHost (pinned staging)");
      s.bytes = grown;
    }
    std::memcpy(s.data, static_cast<const char*>(src) + done, piece);
    check(cudaMemcpyAsync(static_cast<char*>(dst) + done, s.data, piece, cudaMemcpyHostToDevice,
                          stream_),
          "cudaMemcpyAsync (host to device)");
    check(cudaEventRecord(s.done, stream_), "cudaEventRecord");
    done += piece;
  }
}

}  // namespace ar1::kernels::cuda
