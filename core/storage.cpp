#include "core/storage.h"

#include <cstdlib>

#include "core/error.h"

namespace ar1 {

namespace {
void free_aligned(void* p) { std::free(p); }
}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t bytes, Device device) {
  AR1_CHECK(device.is_cpu(), "[storage] cannot allocate on ", device.str(),
            " here: CUDA storage is created by the CUDA backend (kernels::cuda_allocate)");
  // aligned_alloc needs a size that is a multiple of the alignment; never ask for 0 bytes.
  const size_t rounded = ((bytes + kCpuAlignment - 1) / kCpuAlignment) * kCpuAlignment;
  void* p = std::aligned_alloc(kCpuAlignment, rounded == 0 ? kCpuAlignment : rounded);
  AR1_CHECK(p != nullptr, "[storage] out of memory allocating ", bytes, " bytes on the cpu");
  return std::shared_ptr<Storage>(new Storage(p, bytes, device, &free_aligned));
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t bytes, Device device,
                                       void (*deleter)(void*)) {
  return std::shared_ptr<Storage>(new Storage(data, bytes, device, deleter));
}

Storage::~Storage() {
  if (deleter_ != nullptr && data_ != nullptr) deleter_(data_);
}

}  // namespace ar1
