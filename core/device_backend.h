#pragma once
// What core needs from a device other than the CPU: its allocator, copies to and from the host,
// and the handful of data movements tensors do themselves (strided copies for contiguous(),
// dtype conversions, gradient sums). A backend (kernels/cuda) registers itself here once per
// process; core never names CUDA. The CPU needs no backend: core runs those loops itself.
//
// Every call is ordered on the device's stream; a call that writes host memory returns only
// once that memory holds the result (the host is about to read it).
#include <cstddef>
#include <cstdint>

#include "core/allocator.h"
#include "core/device.h"
#include "core/dtype.h"

namespace ar1 {

// The geometry of a strided view, in elements, for device kernels (plain data, passed by value).
struct StridedView {
  static constexpr int kMaxDims = 8;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;
  // Throws naming the fix when this device is absent (no GPU, index out of range).
  virtual Allocator& allocator(Device device) = 0;
  // Copies between this backend's devices and the host, in either direction or within a device.
  virtual void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                          size_t bytes) = 0;
  virtual void set_zero(Device device, void* dst, size_t bytes) = 0;
  virtual void fill_f32(Device device, float* dst, float value, int64_t n) = 0;
  // dst (dense, row-major over view.shape) = the elements of `src` read through view.strides;
  // elem_bytes is 1, 2, 4 or 8.
  virtual void gather_strided(Device device, void* dst, const void* src, const StridedView& view,
                              size_t elem_bytes) = 0;
  // n elements between f32 and f32 / f16 / bf16 / u8 (u8 saturates and rounds to nearest even,
  // as on the CPU). i64 conversions go through the host: they are rare and need a check.
  virtual void convert(Device device, void* dst, DType dst_dtype, const void* src,
                       DType src_dtype, int64_t n) = 0;
  // y = a + b over n f32 elements (gradient accumulation).
  virtual void add_f32(Device device, float* y, const float* a, const float* b, int64_t n) = 0;
  // Waits until every queued operation on `device` has finished.
  virtual void synchronize(Device device) = 0;
};

// Registered by a backend library at start-up; `backend` must outlive every tensor.
void register_device_backend(DeviceType type, DeviceBackend* backend);
// The backend of a non-CPU device; throws naming the fix when no backend was registered.
DeviceBackend& device_backend(Device device);
// The allocator of any device (the CPU's caching allocator for the CPU).
Allocator& allocator_for(Device device);

}  // namespace ar1
