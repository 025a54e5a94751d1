#include "core/storage.h"

#include "core/cpu_allocator.h"
#include "core/error.h"

namespace ar1 {

std::shared_ptr<Storage> Storage::allocate(size_t bytes, Device device) {
  AR1_CHECK(device.is_cpu(), "[storage] cannot allocate on ", device.str(),
            " here: CUDA storage is created by the CUDA backend (kernels::device_allocate, "
            "then Storage::wrap)");
  size_t capacity = 0;
  void* p = CpuAllocator::instance().allocate(bytes, &capacity);
  auto* s = new Storage(p, bytes, device, nullptr);
  s->pooled_capacity_ = capacity;
  return std::shared_ptr<Storage>(s);
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t bytes, Device device,
                                       void (*deleter)(void*)) {
  return std::shared_ptr<Storage>(new Storage(data, bytes, device, deleter));
}

Storage::~Storage() {
  if (pooled_capacity_ != 0) {
    CpuAllocator::instance().release(data_, pooled_capacity_);
  } else if (deleter_ != nullptr && data_ != nullptr) {
    deleter_(data_);
  }
}

}  // namespace ar1
