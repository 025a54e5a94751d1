#pragma once
// A reference-counted byte buffer on one device, from that device's allocator
// (core/allocator.h: the CPU's CpuAllocator, a GPU's from its backend). CPU buffers are 64-byte
// aligned so that AVX-512 loads and oneDNN never meet a split cache line. Tensors share a
// Storage through shared_ptr; views add an element offset.
#include <cstddef>
#include <functional>
#include <memory>

#include "core/allocator.h"
#include "core/device.h"

namespace ar1 {

class Storage {
 public:
  // Allocates `bytes` (uninitialised) on `device` from allocator_for(device).
  static std::shared_ptr<Storage> allocate(size_t bytes, Device device);
  // Wraps memory owned elsewhere; `deleter` (may be empty) runs when the last user lets go.
  static std::shared_ptr<Storage> wrap(void* data, size_t bytes, Device device,
                                       std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return block_.data; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  // The allocator the memory came from; null for wrapped memory.
  Allocator* allocator() const { return allocator_; }

 private:
  Storage(Block block, size_t bytes, Device device, Allocator* allocator,
          std::function<void(void*)> deleter)
      : block_(block), bytes_(bytes), device_(device), allocator_(allocator),
        deleter_(std::move(deleter)) {}
  Block block_;
  size_t bytes_;
  Device device_;
  Allocator* allocator_;                 // set: the block goes back to it
  std::function<void(void*)> deleter_;   // wrapped memory
};

constexpr size_t kCpuAlignment = 64;

}  // namespace ar1
