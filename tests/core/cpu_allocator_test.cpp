#include <doctest/doctest.h>

#include <cstdint>

#include "core/cpu_allocator.h"
#include "core/tensor.h"

using namespace ar1;

TEST_CASE("cpu allocator cuts blocks from a segment, reuses them and merges freed neighbours") {
  CpuAllocator& a = CpuAllocator::instance();
  a.empty_cache();
  const size_t mib = size_t{1} << 20;
  const size_t before = a.in_use_bytes();
  char* first = nullptr;
  {
    const Tensor x = Tensor::empty({256, 1024});  // 1 MiB
    const Tensor y = Tensor::empty({256, 1024});
    first = static_cast<char*>(x.raw_data());
    CHECK(reinterpret_cast<uintptr_t>(first) % 64 == 0);
    // One segment: y is cut right after x, the rest of the segment stays free.
    CHECK(static_cast<char*>(y.raw_data()) == first + mib);
    CHECK(a.in_use_bytes() == before + 2 * mib);
    CHECK(a.cached_bytes() == CpuAllocator::kSegmentBytes - 2 * mib);
  }
  // Both freed and merged with the rest: the whole segment is one free piece again, and a
  // larger request (another shape, 3 MiB) starts where x was.
  CHECK(a.cached_bytes() == CpuAllocator::kSegmentBytes);
  CHECK(a.in_use_bytes() == before);
  const Tensor z = Tensor::empty({768, 1024});
  CHECK(z.raw_data() == first);
  CHECK(a.peak_in_use_bytes() >= before + 3 * mib);
}

TEST_CASE("cpu allocator leaves small blocks to malloc and respects its budget") {
  CpuAllocator& a = CpuAllocator::instance();
  a.empty_cache();
  { const Tensor small = Tensor::empty({16}); }
  CHECK(a.cached_bytes() == 0);
  const size_t budget = a.budget();
  {
    const Tensor x = Tensor::empty({64, 1024});  // 256 KiB
    CHECK(a.cached_bytes() == CpuAllocator::kSegmentBytes - 256 * 1024);
    // A segment in use is kept whatever the budget; what is free beyond it waits.
    a.set_budget(0);
    CHECK(a.cached_bytes() == CpuAllocator::kSegmentBytes - 256 * 1024);
  }
  // Wholly free now, and over the budget: handed back.
  CHECK(a.cached_bytes() == 0);
  a.set_budget(budget);
  { const Tensor y = Tensor::empty({64, 1024}); }
  CHECK(a.cached_bytes() == CpuAllocator::kSegmentBytes);  // within the budget: kept
  a.empty_cache();
  CHECK(a.cached_bytes() == 0);
}

TEST_CASE("cpu allocator gives zeros() cleared memory even from a reused block") {
  {
    Tensor t = Tensor::full({256, 256}, 7.f);
  }
  const Tensor z = Tensor::zeros({256, 256});
  for (float v : z.to_vector<float>()) REQUIRE(v == 0.f);
}
