#pragma once
// Everything one GPU's kernels share, owned by the CUDA backend, one per device and created on
// first use: the stream every kernel and copy of that device is queued on, the cuBLAS and cuDNN
// handles bound to it, the caching allocator, scratch memory, pinned staging buffers for host
// -> device copies, and the cache of convolution plans.
//
// One stream per device: ops of one device run in the order they were issued, which is what
// makes the allocator's reuse and the absence of host synchronisation safe. Callers on several
// host threads share it (the handles are not used concurrently: ops are issued by one thread).
#include <cstddef>
#include <memory>
#include <mutex>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "core/device.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/plan_cache.h"

namespace ar1::kernels::cuda {

// The plan of one cuDNN convolution: its descriptors, and the algorithm chosen once per shape,
// direction and buffer alignment (kernels/cuda/conv2d.cpp) with the workspace it needs.
enum class ConvDirection : int32_t { forward, backward_data, backward_weights };
// Plain int64 fields, so no padding bytes take part in the byte-wise comparison.
struct ConvPlanKey {
  int64_t v[16] = {};
  // math: bit 0 TF32, bit 1 deterministic mode.
  ConvPlanKey(const ConvDesc& d, ConvDirection direction, int64_t math, int64_t alignment)
      : v{d.n, d.c_in, d.h, d.w, d.c_out, d.kh, d.kw, d.stride, d.pad, d.groups,
          d.channels_last, d.bias, d.relu, static_cast<int64_t>(direction), math, alignment} {}
};
struct ConvPlan {
  ConvPlan() = default;
  ConvPlan(ConvPlan&& other) noexcept;
  ConvPlan& operator=(ConvPlan&&) = delete;
  ConvPlan(const ConvPlan&) = delete;
  ~ConvPlan();
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algorithm = 0;
  size_t workspace = 0;
};

class Context;

// Device memory for one op's temporaries, given back to the allocator (stream-ordered) when it
// goes out of scope.
class Scratch {
 public:
  Scratch(Context& ctx, size_t bytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T> T* as() const { return static_cast<T*>(block_.data); }

 private:
  Allocator& allocator_;
  Block block_;
};

class Context {
 public:
  // The context of `device` (checked: a CUDA device that exists), made current on this thread.
  static Context& get(Device device);

  int index() const { return index_; }
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  CachingAllocator& allocator() { return *allocator_; }
  PlanCache<ConvPlanKey, ConvPlan>& conv_plans() { return conv_plans_; }
  // Whether cuDNN and cuBLAS may use TF32 tensor cores (off unless AR1_CUDA_TF32=1): fp32
  // results then match the CPU's.
  bool tf32() const { return tf32_; }
  // --deterministic (kernels/device_runtime.h): process-wide, read when a plan is made.
  static bool deterministic();
  static void set_deterministic(bool on);

  // Host -> device copy through a pinned staging buffer: returns once `src` may be reused; the
  // transfer itself completes in stream order. Where `src` is page-locked it is read directly,
  // later: its owner synchronises before writing or freeing it (kernels/device_runtime.h).
  void copy_from_host(void* dst, const void* src, size_t bytes);
  // The same on the copy stream, after the compute work queued so far has let go of `dst`'s
  // block, overlapping the compute work queued next; join_uploads() orders it before later work.
  void upload(void* dst, const void* src, size_t bytes);
  void join_uploads();

  // Graph capture (kernels/cuda/graph.cpp): while set, copies to and from the host and
  // synchronisation throw GraphCaptureUnsupported instead of breaking the capture.
  bool capturing() const { return capturing_; }
  void set_capturing(bool on) { capturing_ = on; }
  // Throws GraphCaptureUnsupported naming `what` when a capture is under way.
  void forbid_in_capture(const char* what) const;
  // A device word a captured cross-entropy records its first bad label row in (all ones: none),
  // read by check_deferred_errors().
  unsigned long long* deferred_bad_label() const { return deferred_bad_label_; }
  // cudaStreamSynchronize on the compute stream, refused during capture.
  void synchronize();
  // Both streams idle (never throws: used before page-locked memory is freed).
  void wait_idle() noexcept;

  ~Context();

 private:
  explicit Context(int index);
  int index_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  std::unique_ptr<CachingAllocator> allocator_;
  PlanCache<ConvPlanKey, ConvPlan> conv_plans_{512};
  bool tf32_ = false;
  bool capturing_ = false;
  unsigned long long* deferred_bad_label_ = nullptr;

  // The copy stream of upload(): compute_ready_ marks the compute work an upload must follow,
  // uploads_done_ the last upload, which join_uploads() makes the compute stream wait for.
  cudaStream_t copy_stream_ = nullptr;
  cudaEvent_t compute_ready_ = nullptr, uploads_done_ = nullptr;
  bool uploads_pending_ = false;
  void stage(void* dst, const void* src, size_t bytes, cudaStream_t stream);

  // Pinned buffers used in turn, each with the event of its last transfer: a copy waits only
  // for the transfer kStagingSlots copies back (small copies, labels and indices, do not stall
  // the host on the GPU's queue). Each grows to the largest piece it has carried.
  static constexpr int kStagingSlots = 8;
  struct Staging {
    void* data = nullptr;
    size_t bytes = 0;
    cudaEvent_t done = nullptr;
  };
  Staging staging_[kStagingSlots];
  int next_staging_ = 0;
  std::mutex staging_mutex_;
};

}  // namespace ar1::kernels::cuda
