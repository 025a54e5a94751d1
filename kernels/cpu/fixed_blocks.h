#pragma once
// Work cut into blocks fixed by the shape, each block run start to finish by one thread.
//
// Why: a reduction that a library splits by thread (oneDNN's backward-weights convolutions sum
// their batch per thread, Eigen and oneDNN's sgemm pick their k-blocking from the thread count)
// rounds differently on 1, 2 or 3 threads. Cutting the work into blocks whose size depends on
// the shape only, running each block's library call single-threaded, and (for a reduction)
// adding the blocks' partial results in block order gives the same bits on any thread count.
// The threads share the blocks out; which thread runs a block does not change its result.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>

#include <omp.h>

namespace ar1::kernels::cpu {

// Calls block(i) for every i in [0, count) on the current OpenMP team. Inside a block the
// calling thread's OpenMP thread count is 1, so oneDNN primitives built and run there, oneDNN's
// sgemm and Eigen's products run single-threaded. The first exception a block throws is
// rethrown here once every block has finished (an exception must not leave a parallel region).
template <class Block>
void for_each_fixed_block(int64_t count, Block&& block) {
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel for schedule(dynamic, 1) if (count > 1)
  for (int64_t i = 0; i < count; ++i) {
    omp_set_num_threads(1);  // this implicit task's nested regions only; gone after the loop
    try {
      block(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// ceil(a / b) for a >= 0, b > 0.
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The size of a block over `total` items: at least `min_size` (all of them if fewer), and
// large enough that there are at most `max_blocks` blocks. Depends on the shape only.
inline int64_t fixed_block_size(int64_t total, int64_t min_size, int64_t max_blocks) {
  return std::min(total, std::max(min_size, ceil_div(total, max_blocks)));
}

}  // namespace ar1::kernels::cpu
