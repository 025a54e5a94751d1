#pragma once
// The memory of one device. Storage asks its device's allocator for a block and hands it back
// when the last tensor lets go. Allocators cache blocks by size class: a training loop
// allocates the same shapes every iteration, and a system allocation per op (mmap + page
// faults on the CPU, cudaMalloc's implicit synchronisation on a GPU) would dominate it.
#include <cstddef>

namespace ar1 {

struct Block {
  void* data = nullptr;
  size_t capacity = 0;  // the size class actually reserved; passed back to release()
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  // At least `bytes` (uninitialised); throws ar1::Error naming the device, the size asked for
  // and what is free when the device is out of memory.
  virtual Block allocate(size_t bytes) = 0;
  virtual void release(const Block& block) = 0;

  // Frees every cached block.
  virtual void empty_cache() = 0;
  virtual size_t cached_bytes() const = 0;
  // The most bytes the cache keeps; blocks released beyond it are freed.
  virtual size_t budget() const = 0;
  virtual void set_budget(size_t bytes) = 0;
};

}  // namespace ar1
