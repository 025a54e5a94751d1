#pragma once
// A reference-counted byte buffer on one device. CPU buffers are 64-byte aligned so that
// AVX-512 loads and oneDNN never meet a split cache line, and come from the caching
// CpuAllocator (core/cpu_allocator.h). Tensors share a Storage through
// shared_ptr; views add an element offset.
#include <cstddef>
#include <memory>

#include "core/device.h"

namespace ar1 {

class Storage {
 public:
  // Allocates `bytes` (uninitialised) on `device`; CUDA storage comes from the CUDA backend.
  static std::shared_ptr<Storage> allocate(size_t bytes, Device device);
  // Wraps memory owned elsewhere; `deleter` (may be empty) runs when the last user lets go.
  static std::shared_ptr<Storage> wrap(void* data, size_t bytes, Device device,
                                       void (*deleter)(void*));
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  Storage(void* data, size_t bytes, Device device, void (*deleter)(void*))
      : data_(data), bytes_(bytes), device_(device), deleter_(deleter) {}
  void* data_;
  size_t bytes_;
  Device device_;
  void (*deleter_)(void*);
  size_t pooled_capacity_ = 0;  // non-zero: the block goes back to the CpuAllocator
};

constexpr size_t kCpuAlignment = 64;

}  // namespace ar1
