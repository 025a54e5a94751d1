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
#include "kernels/device_runtime.h"

namespace ar1::kernels::cuda {

namespace {
// Host -> device copies larger than this go through the staging buffers in pieces.
constexpr size_t kStagingBytes = size_t{32} << 20;
constexpr int kMaxDevices = 64;
}  // namespace

namespace {
std::atomic<bool> deterministic_mode{false};
}  // namespace

bool Context::deterministic() { return deterministic_mode.load(); }
void Context::set_deterministic(bool on) { deterministic_mode.store(on); }

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
  check(cudaStreamCreateWithFlags(&copy_stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cudaEventCreateWithFlags(&compute_ready_, cudaEventDisableTiming), "cudaEventCreate");
  check(cudaEventCreateWithFlags(&uploads_done_, cudaEventDisableTiming), "cudaEventCreate");
  check(cudaMalloc(&deferred_bad_label_, sizeof(unsigned long long)), "cudaMalloc");
  check(cudaMemsetAsync(deferred_bad_label_, 0xff, sizeof(unsigned long long), stream_),
        "cudaMemsetAsync");
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

Context::~Context() {
  for (Staging& s : staging_) {
    if (s.data != nullptr) cudaFreeHost(s.data);
    if (s.done != nullptr) cudaEventDestroy(s.done);
  }
  if (deferred_bad_label_ != nullptr) cudaFree(deferred_bad_label_);
  if (compute_ready_ != nullptr) cudaEventDestroy(compute_ready_);
  if (uploads_done_ != nullptr) cudaEventDestroy(uploads_done_);
  if (copy_stream_ != nullptr) cudaStreamDestroy(copy_stream_);
  if (cudnn_ != nullptr) cudnnDestroy(cudnn_);
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void Context::forbid_in_capture(const char* what) const {
  if (capturing_) {
    throw GraphCaptureUnsupported(std::string("[cuda] ") + what +
                                  " inside a CUDA graph capture; this step runs eagerly");
  }
}

void Context::wait_idle() noexcept {
  if (cudaStreamSynchronize(copy_stream_) != cudaSuccess) cudaGetLastError();
  if (cudaStreamSynchronize(stream_) != cudaSuccess) cudaGetLastError();
}

void Context::synchronize() {
  forbid_in_capture("a synchronisation");
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

namespace {
bool page_locked(const void* p) {
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    cudaGetLastError();  // plain pageable memory on older drivers
    return false;
  }
  return a.type == cudaMemoryTypeHost;
}
}  // namespace

void Context::copy_from_host(void* dst, const void* src, size_t bytes) {
  forbid_in_capture("a host-to-device copy");
  stage(dst, src, bytes, stream_);
}

void Context::upload(void* dst, const void* src, size_t bytes) {
  forbid_in_capture("a host-to-device upload");
  // dst's block was handed out in compute-stream order: the copy stream waits for the compute
  // work queued so far (which may still read the block's previous tensor), then runs beside
  // whatever is queued after.
  check(cudaEventRecord(compute_ready_, stream_), "cudaEventRecord");
  check(cudaStreamWaitEvent(copy_stream_, compute_ready_, 0), "cudaStreamWaitEvent");
  stage(dst, src, bytes, copy_stream_);
  check(cudaEventRecord(uploads_done_, copy_stream_), "cudaEventRecord");
  uploads_pending_ = true;
}

void Context::join_uploads() {
  if (!uploads_pending_) return;
  check(cudaStreamWaitEvent(stream_, uploads_done_, 0), "cudaStreamWaitEvent");
  uploads_pending_ = false;
}

void Context::stage(void* dst, const void* src, size_t bytes, cudaStream_t stream) {
  if (page_locked(src)) {  // DMA straight from the caller's page-locked memory
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync (pinned host to device)");
    return;
  }
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
                          stream),
          "cudaMemcpyAsync (host to device)");
    check(cudaEventRecord(s.done, stream), "cudaEventRecord");
    done += piece;
  }
}

}  // namespace ar1::kernels::cuda
