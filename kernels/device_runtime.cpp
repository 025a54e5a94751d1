// The device services of kernels/device_runtime.h: the CPU's answers here, the rest from the
// CUDA backend (or the stubs of a build without one).
#include "kernels/device_runtime.h"

#include "core/device_backend.h"

namespace ar1::kernels {

DeviceMemory device_memory(Device device) {
  return device.is_cuda() ? cuda::device_memory(device) : DeviceMemory{};
}

Tensor pinned_host_tensor(const Shape& shape, DType dtype, Device gpu) {
  AR1_CHECK(gpu.is_cuda(), "[pinned] page-locked memory is registered with a GPU, not ",
            gpu.str());
  const size_t bytes = static_cast<size_t>(numel_of(shape)) * dtype_size(dtype);
  return Tensor::from_storage(cuda::pinned_host_storage(bytes, gpu), shape, dtype);
}

void upload_async(void* dst, Device device, const void* src, size_t bytes) {
  AR1_CHECK(device.is_cuda(), "[upload] uploads go to a GPU, not ", device.str());
  if (bytes > 0) cuda::upload_async(dst, device, src, bytes);
}

void join_uploads(Device device) {
  if (device.is_cuda()) cuda::join_uploads(device);
}

Tensor upload_tensor_async(const Tensor& host, Device device) {
  AR1_CHECK(host.device().is_cpu(), "[upload] the source is ", host.describe(),
            ", not a CPU tensor");
  if (device.is_cpu()) return host;
  const Tensor src = host.contiguous();
  Tensor out = Tensor::empty(src.shape(), src.dtype(), device);
  upload_async(out.raw_data(), device, src.raw_data(),
               static_cast<size_t>(src.numel()) * dtype_size(src.dtype()));
  return out;
}

void synchronize(Device device) {
  if (device.is_cuda()) device_backend(device).synchronize(device);
}

void set_deterministic(bool on) { cuda::set_deterministic(on); }
bool deterministic() { return cuda::deterministic(); }

std::unique_ptr<DeviceGraph> capture_graph(Device device, const std::function<void()>& body) {
  AR1_CHECK(device.is_cuda(), "[graph] device graphs are captured on a GPU, not ", device.str());
  return cuda::capture_graph(device, body);
}

void* compute_stream(Device device) {
  AR1_CHECK(device.is_cuda(), "[stream] the CPU has no compute stream");
  return cuda::compute_stream(device);
}

void check_deferred_errors(Device device) {
  if (device.is_cuda()) cuda::check_deferred_errors(device);
}

}  // namespace ar1::kernels
