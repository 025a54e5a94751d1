// The CUDA backend as core and the dispatch see it: device discovery and checks, and core's
// DeviceBackend (allocator, copies, the tensor data movements of kernels/cuda/tensor_copy.cu).
#include <string>

#include "core/device_backend.h"
#include "core/error.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/status.h"
#include "kernels/cuda/tensor_copy.h"
#include "kernels/device.h"

namespace ar1::kernels::cuda {

namespace {

class CudaBackend final : public DeviceBackend {
 public:
  Allocator& allocator(Device device) override { return Context::get(device).allocator(); }

  void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                  size_t bytes) override {
    if (bytes == 0) return;
    if (dst_device.is_cuda() && src_device.is_cpu()) {
      Context::get(dst_device).copy_from_host(dst, src, bytes);
    } else if (dst_device.is_cpu() && src_device.is_cuda()) {
      Context& ctx = Context::get(src_device);
      ctx.forbid_in_capture("a device-to-host copy");
      check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx.stream()),
            "cudaMemcpyAsync (device to host)");
      check(cudaStreamSynchronize(ctx.stream()), "cudaStreamSynchronize");  // the host reads next
    } else if (dst_device == src_device) {
      Context& ctx = Context::get(dst_device);
      check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx.stream()),
            "cudaMemcpyAsync (device to device)");
    } else {  // two GPUs: the source's queued work first, then the copy on the destination's
      Context::get(src_device).forbid_in_capture("a copy between GPUs");
      check(cudaStreamSynchronize(Context::get(src_device).stream()), "cudaStreamSynchronize");
      Context& ctx = Context::get(dst_device);
      check(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes,
                                ctx.stream()),
            "cudaMemcpyPeerAsync");
      // The source block may be reused by the source's stream as soon as this returns.
      check(cudaStreamSynchronize(ctx.stream()), "cudaStreamSynchronize");
    }
  }

  void set_zero(Device device, void* dst, size_t bytes) override {
    if (bytes == 0) return;
    check(cudaMemsetAsync(dst, 0, bytes, Context::get(device).stream()), "cudaMemsetAsync");
  }

  void fill_f32(Device device, float* dst, float value, int64_t n) override {
    cuda::fill_f32(Context::get(device), dst, value, n);
  }

  void gather_strided(Device device, void* dst, const void* src, const StridedView& view,
                      size_t elem_bytes) override {
    cuda::gather_strided(Context::get(device), dst, src, view, elem_bytes);
  }

  void convert(Device device, void* dst, DType dst_dtype, const void* src, DType src_dtype,
               int64_t n) override {
    cuda::convert(Context::get(device), dst, dst_dtype, src, src_dtype, n);
  }

  void add_f32(Device device, float* y, const float* a, const float* b, int64_t n) override {
    cuda::add_f32(Context::get(device), y, a, b, n);
  }

  void synchronize(Device device) override { Context::get(device).synchronize(); }
};

}  // namespace

bool built() { return true; }

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
  int current = 0;
  if (cudaGetDevice(&current) != cudaSuccess) cudaGetLastError();
  for (int i = 0; i < device_count(); ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    std::string free_part;
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      free_part = ", " + std::to_string(free_bytes >> 20) + " MiB free";
    }
    cudaGetLastError();
    names.push_back("cuda:" + std::to_string(i) + " " + p.name + " (compute capability " +
                    std::to_string(p.major) + "." + std::to_string(p.minor) + ", " +
                    std::to_string(p.totalGlobalMem >> 20) + " MiB" + free_part + ", " +
                    std::to_string(p.multiProcessorCount) + " SMs)");
  }
  if (cudaSetDevice(current) != cudaSuccess) cudaGetLastError();
  return names;
}

std::string versions() {
  auto dotted = [](int v) {  // 13000 -> "13.0"
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
  };
  int driver = 0, runtime = 0;
  if (cudaDriverGetVersion(&driver) != cudaSuccess) cudaGetLastError();
  if (cudaRuntimeGetVersion(&runtime) != cudaSuccess) cudaGetLastError();
  const size_t cudnn = cudnnGetVersion();  // 91900 -> 9.19.0
  return std::string("driver ") + (driver > 0 ? dotted(driver) : std::string("none")) +
         ", runtime " + dotted(runtime) + ", cuDNN " + std::to_string(cudnn / 10000) + "." +
         std::to_string((cudnn % 10000) / 100) + "." + std::to_string(cudnn % 100);
}

void require_device(Device device) {
  const int count = device_count();
  AR1_CHECK(count > 0, "[device] ", device.str(), " requested but no CUDA GPU was found "
            "(driver missing or no device visible); use --device cpu");
  AR1_CHECK(device.index >= 0 && device.index < count, "[device] ", device.str(),
            " requested but only ", count, " CUDA device(s) exist (cuda:0 to cuda:", count - 1,
            ")");
}

// Planar: the per-channel reductions of our own kernels read each channel's rows contiguously,
// and cuDNN's fp32 convolutions take NCHW as readily as NHWC.
ActivationLayout preferred_activation_layout() { return ActivationLayout::plain; }

void register_backend() {
  static CudaBackend backend;
  register_device_backend(DeviceType::cuda, &backend);
}

}  // namespace ar1::kernels::cuda
