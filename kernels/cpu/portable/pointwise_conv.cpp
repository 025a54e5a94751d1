// Pointwise convolutions (1x1, stride 1, no padding, one group) as GEMMs, w [c_out, c_in]:
//   channels-last, over the M = N H W pixel rows:
//     y [M, c_out] = x [M, c_in] w^T,  dx [M, c_in] = dy w,  dw = dy^T x
//   NCHW, per image (planes of P = H W pixels):
//     y_i [c_out, P] = w x_i,  dx_i = w^T dy_i,  dw = sum_i dy_i x_i^T
// Each product runs as our own single-threaded GEMM (gemm.h: one fma chain per output) on
// blocks fixed by the shape (fixed_blocks.h), so every output's k-sum has one order whatever
// the thread count, instruction set or machine.
#include <algorithm>
#include <vector>

#include "kernels/cpu/batch_renorm_fusion.h"
#include "kernels/cpu/fixed_blocks.h"
#include "kernels/cpu/portable/conv_algorithms.h"
#include "kernels/cpu/portable/gemm.h"
#include "kernels/cpu/portable/masked_grad_sums.h"
#include "kernels/threading.h"

namespace ar1::kernels::cpu::portable {

namespace {

// Channels-last GEMM blocks: C cut along its longer side into blocks of at least
// kGemmMinBlock rows or columns, kBlocksPerThread per thread (at most kGemmBlocks), each its own
// GEMM call. Each block packs the shared operand again, so no more blocks than balancing the
// threads needs; their number changes no bit (every output's k-sum runs whole inside one call).
constexpr int64_t kGemmMinBlock = 32;
constexpr int64_t kGemmBlocks = 16;
constexpr int64_t kBlocksPerThread = 2;
// Outputs larger than this bypass the caches (GemmDesc::stream_c): the next layer reads them
// from memory anyway.
constexpr int64_t kStreamBytes = int64_t{32} << 20;
int64_t gemm_blocks() { return std::min(kGemmBlocks, kBlocksPerThread * num_threads()); }
// Backward-weights on at most this many pixel rows is one GEMM per block of dw, each with the
// whole k = M sum inside; on more, the rows are cut into chunks whose partial dw are added in
// order (one pass over x and dy instead of one per block of dw).
constexpr int64_t kWholeSumMaxRows = 2048;
// The fused ReLU backward works through a chunk's rows this many bytes of masked gradient at a
// time, a buffer that stays in L2 while both GEMMs read it.
constexpr int64_t kMaskedBufferBytes = int64_t{512} << 10;
// NCHW: an image's plane of pixels is cut into column chunks of at least this many pixels, so
// a small batch of large maps still keeps every thread busy.
constexpr int64_t kMinPlaneChunk = 256;
constexpr int64_t kPlaneChunks = 8;

// Calls f(image, first_pixel, pixels) for every (image, chunk) of an NCHW batch, one thread each.
template <class F>
void for_each_plane_chunk(const ConvDesc& d, F&& f) {
  const int64_t plane = d.h * d.w;
  const int64_t per_chunk = fixed_block_size(plane, kMinPlaneChunk, kPlaneChunks);
  const int64_t chunks = ceil_div(plane, per_chunk);
  for_each_fixed_block(d.n * chunks, [&](int64_t t) {
    const int64_t first = (t % chunks) * per_chunk;
    f(t / chunks, first, std::min(per_chunk, plane - first));
  });
}

}  // namespace

void pointwise_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                       const float* bias, const float* w_scale) {
  const int64_t ci = d.c_in, co = d.c_out;
  if (d.channels_last) {
    const bool stream = d.n * d.h * d.w * co * int64_t{sizeof(float)} > kStreamBytes;
    for_each_gemm_block(d.n * d.h * d.w, co, kGemmMinBlock, gemm_blocks(),
                        [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
      // The bias and ReLU applied by the GEMM's tiles, while still in registers.
      gemm(y + r0 * co + c0, x + r0 * ci, w + c0 * ci,
           {.m = rows, .n = cols, .k = ci, .trans_b = true, .lda = ci, .ldb = ci, .ldc = co,
            .bias = bias != nullptr ? bias + c0 : nullptr, .relu = bias != nullptr && d.relu,
            .b_scale = w_scale != nullptr ? w_scale + c0 : nullptr, .stream_c = stream});
    });
    return;
  }
  const int64_t plane = d.h * d.w;
  for_each_plane_chunk(d, [&](int64_t i, int64_t p0, int64_t pixels) {
    float* y_chunk = y + i * co * plane + p0;
    gemm(y_chunk, w, x + i * ci * plane + p0,
         {.m = co, .n = pixels, .k = ci, .lda = ci, .ldb = plane, .ldc = plane});
    if (bias != nullptr) add_bias(y_chunk, bias, co, pixels, plane, true, d.relu);
  });
}

void pointwise_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d) {
  const int64_t ci = d.c_in, co = d.c_out;
  if (d.channels_last) {
    const bool stream = d.n * d.h * d.w * ci * int64_t{sizeof(float)} > kStreamBytes;
    for_each_gemm_block(d.n * d.h * d.w, ci, kGemmMinBlock, gemm_blocks(),
                        [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
      gemm(dx + r0 * ci + c0, dy + r0 * co, w + c0,
           {.m = rows, .n = cols, .k = co, .lda = co, .ldb = ci, .ldc = ci, .stream_c = stream});
    });
    return;
  }
  const int64_t plane = d.h * d.w;
  for_each_plane_chunk(d, [&](int64_t i, int64_t p0, int64_t pixels) {
    gemm(dx + i * ci * plane + p0, w, dy + i * co * plane + p0,
         {.m = ci, .n = pixels, .k = co, .trans_a = true, .lda = ci, .ldb = plane,
          .ldc = plane});
  });
}

void pointwise_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d) {
  const int64_t ci = d.c_in, co = d.c_out, rows = d.n * d.h * d.w;
  thread_local std::vector<float> partials;  // the caller's scratch, kept between calls
  if (d.channels_last && rows <= kWholeSumMaxRows) {
    for_each_gemm_block(co, ci, kGemmMinBlock, gemm_blocks(),
                        [&](int64_t o0, int64_t outs, int64_t i0, int64_t ins) {
      gemm(dw + o0 * ci + i0, dy + o0, x + i0,
           {.m = outs, .n = ins, .k = rows, .trans_a = true, .lda = co, .ldb = ci, .ldc = ci});
    });
    return;
  }
  if (d.channels_last) {
    const int64_t per_chunk = fixed_block_size(rows, kMinBlockPixels, kMaxBlocks);
    sum_fixed_blocks(dw, co * ci, ceil_div(rows, per_chunk), partials, [&](float* out, int64_t b) {
      const int64_t r0 = b * per_chunk, n_rows = std::min(per_chunk, rows - r0);
      gemm(out, dy + r0 * co, x + r0 * ci,
           {.m = co, .n = ci, .k = n_rows, .trans_a = true, .lda = co, .ldb = ci, .ldc = ci});
    });
    return;
  }
  const int64_t plane = d.h * d.w, per_block = images_per_block(d);
  sum_fixed_blocks(dw, co * ci, ceil_div(d.n, per_block), partials, [&](float* out, int64_t b) {
    // Each output's fma chain runs on from one image of the block to the next.
    const int64_t last = std::min(d.n, (b + 1) * per_block);
    for (int64_t i = b * per_block; i < last; ++i) {
      gemm(out, dy + i * co * plane, x + i * ci * plane,
           {.m = co, .n = ci, .k = plane, .trans_b = true, .lda = plane, .ldb = plane,
            .ldc = ci, .accumulate = i != b * per_block});
    }
  });
}

bool pointwise_relu_backward_fuses(const ConvDesc& d) {
  // The chunked backward-weights path (more rows than one whole sum), in f32.
  return d.channels_last && d.n * d.h * d.w > kWholeSumMaxRows && !d.bf16;
}

void pointwise_relu_backward(float* dx, float* dw, float* db, const float* dy, const float* y,
                             const float* x, const float* w, const ConvDesc& d) {
  const int64_t ci = d.c_in, co = d.c_out, rows = d.n * d.h * d.w;
  // pointwise_backward_weights' chunks, so dw's partial sums (and bits) are its own.
  const int64_t per_chunk = fixed_block_size(rows, kMinBlockPixels, kMaxBlocks);
  MaskedGradSums sums(rows, co, per_chunk, db);
  // The masked rows go through a buffer of whole BatchReNorm blocks (steps aligned to them).
  const int64_t block_rows = batch_renorm_block_rows(co);
  const int64_t step =
      block_rows * std::max<int64_t>(1, kMaskedBufferBytes / (block_rows * co * 4));
  const bool stream = rows * ci * int64_t{sizeof(float)} > kStreamBytes;

  auto chunk = [&](float* dw_out, int64_t c) {
    thread_local std::vector<float> masked;
    masked.resize(static_cast<size_t>(step * co));
    float* gm = masked.data();
    const int64_t r0 = c * per_chunk, r1 = std::min(rows, r0 + per_chunk);
    for (int64_t s0 = r0; s0 < r1;) {
      const int64_t s1 = std::min(r1, (s0 / step + 1) * step);
      sums.mask(gm, dy + s0 * co, y + s0 * co, s0, s1);
      if (dx != nullptr) {
        gemm(dx + s0 * ci, gm, w,
             {.m = s1 - s0, .n = ci, .k = co, .lda = co, .ldb = ci, .ldc = ci,
              .stream_c = stream});
      }
      if (dw_out != nullptr) {  // the chunk's fma chains run on from one step to the next
        gemm(dw_out, gm, x + s0 * ci,
             {.m = co, .n = ci, .k = s1 - s0, .trans_a = true, .lda = co, .ldb = ci, .ldc = ci,
              .accumulate = s0 != r0});
      }
      s0 = s1;
    }
  };
  const int64_t chunks = ceil_div(rows, per_chunk);
  if (dw != nullptr) {
    thread_local std::vector<float> partials;
    sum_fixed_blocks(dw, co * ci, chunks, partials, chunk);
  } else {
    for_each_fixed_block(chunks, [&](int64_t c) { chunk(nullptr, c); });
  }
  sums.finish(dy, y);
}

}  // namespace ar1::kernels::cpu::portable
