#include "core/storage.h"

#include "core/device_backend.h"

namespace ar1 {

std::shared_ptr<Storage> Storage::allocate(size_t bytes, Device device) {
  Allocator& allocator = allocator_for(device);
  const Block block = allocator.allocate(bytes);
  return std::shared_ptr<Storage>(new Storage(block, bytes, device, &allocator, nullptr));
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t bytes, Device device,
                                       std::function<void(void*)> deleter) {
  return std::shared_ptr<Storage>(
      new Storage(Block{data, bytes}, bytes, device, nullptr, std::move(deleter)));
}

Storage::~Storage() {
  if (allocator_ != nullptr) {
    allocator_->release(block_);
  } else if (deleter_ && block_.data != nullptr) {
    deleter_(block_.data);
  }
}

}  // namespace ar1
