#pragma once
// Work cut into blocks fixed by the shape, each block run start to finish by one thread.
//
// Why: a reduction that a library splits by thread (oneDNN's backward-weights convolutions sum
// their batch per thread, oneDNN's sgemm picks its k-blocking from the thread count)
// rounds differently on 1, 2 or 3 threads. Cutting the work into blocks whose size depends on
// the shape only, running each block's library call single-threaded, and (for a reduction)
// adding the blocks' partial results in block order gives the same bits on any thread count.
// The threads share the blocks out; which thread runs a block does not change its result.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <vector>

#include <omp.h>

namespace ar1::kernels::cpu {

// Calls block(i) for every i in [0, count) on the current OpenMP team. Inside a block the
// calling thread's OpenMP thread count is 1, so oneDNN primitives built and run there and
// oneDNN's sgemm run single-threaded. The first exception a block throws is
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

// C [m, n] cut along its longer side into at most `max_blocks` blocks of at least `min_block`
// rows or columns; calls gemm_block(first_row, rows, first_col, cols) for each, one thread a
// block. Every k-sum then runs whole inside one single-threaded call, and the operand all
// blocks share (each packs it again) is the one along the shorter side.
template <class GemmBlock>
void for_each_gemm_block(int64_t m, int64_t n, int64_t min_block, int64_t max_blocks,
                         GemmBlock&& gemm_block) {
  const bool by_rows = m >= n;
  const int64_t total = by_rows ? m : n;
  const int64_t per_block = fixed_block_size(total, min_block, max_blocks);
  for_each_fixed_block(ceil_div(total, per_block), [&](int64_t b) {
    const int64_t first = b * per_block, size = std::min(per_block, total - first);
    if (by_rows) {
      gemm_block(first, size, int64_t{0}, n);
    } else {
      gemm_block(int64_t{0}, m, first, size);
    }
  });
}

// A sum over `blocks` fixed blocks (of a batch): partial(out, b) overwrites out[0, count) with
// block b's share, block 0 straight into `out`, the others into scratch; the partials are then
// added in block order, so the bits do not depend on which thread ran which block.
// `scratch` is the caller's, kept between calls (it grows to (blocks - 1) * count).
template <class Partial>
void sum_fixed_blocks(float* out, int64_t count, int64_t blocks, std::vector<float>& scratch,
                      Partial&& partial) {
  if (blocks > 1 && scratch.size() < static_cast<size_t>((blocks - 1) * count)) {
    scratch.resize((blocks - 1) * count);
  }
  float* partials = scratch.data();
  for_each_fixed_block(blocks, [&](int64_t b) {
    partial(b == 0 ? out : partials + (b - 1) * count, b);
  });
  if (blocks == 1) return;
#pragma omp parallel for schedule(static) if (count > 4096)
  for (int64_t i = 0; i < count; ++i) {
    float sum = out[i];
    for (int64_t b = 1; b < blocks; ++b) sum += partials[(b - 1) * count + i];
    out[i] = sum;
  }
}

}  // namespace ar1::kernels::cpu
