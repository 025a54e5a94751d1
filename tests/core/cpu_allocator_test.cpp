#include <doctest/doctest.h>

#include <cstdint>

#include "core/cpu_allocator.h"
#include "core/tensor.h"

using namespace ar1;

TEST_CASE("cpu allocator reuses a freed block of the same size class") {
  CpuAllocator& a = CpuAllocator::instance();
  a.empty_cache();
  const void* first = nullptr;
  {
    const Tensor t = Tensor::empty({64, 1024});  // 256 KiB: cached size
    first = t.raw_data();
    CHECK(reinterpret_cast<uintptr_t>(first) % 64 == 0);
  }
  CHECK(a.cached_bytes() == 256 * 1024);
  const Tensor again = Tensor::empty({1024, 64});  // same bytes, other shape
  CHECK(again.raw_data() == first);
  CHECK(a.cached_bytes() == 0);
}

TEST_CASE("cpu allocator leaves small blocks to malloc and respects its budget") {
  CpuAllocator& a = CpuAllocator::instance();
  a.empty_cache();
  { const Tensor small = Tensor::empty({16}); }
  CHECK(a.cached_bytes() == 0);
  const size_t budget = a.budget();
  a.set_budget(300 * 1024);
  {
    const Tensor x = Tensor::empty({64, 1024});  // 256 KiB
    const Tensor y = Tensor::empty({64, 1024});
  }
  CHECK(a.cached_bytes() == 256 * 1024);  // the second block did not fit the budget
  a.empty_cache();
  CHECK(a.cached_bytes() == 0);
  a.set_budget(budget);
}

TEST_CASE("cpu allocator gives zeros() cleared memory even from a reused block") {
  {
    Tensor t = Tensor::full({256, 256}, 7.f);
  }
  const Tensor z = Tensor::zeros({256, 256});
  for (float v : z.to_vector<float>()) REQUIRE(v == 0.f);
}
