// CPU convolution on oneDNN (v2 API): forward, backward-data and backward-weights primitives.
//
// Buffers (see kernels/conv2d.h): x [n, c_in, h, w], w [c_out, c_in/g, kh, kw] (passed to oneDNN
// as goihw [g, c_out/g, c_in/g, kh, kw] when g > 1), y [n, c_out, oh, ow], all plain f32.
//
// Layouts: each primitive is created with format_tag::any and picks its own layout (blocked
// nChw16c / OIhw16i16o on AVX-512, 8c on AVX2); the caller's plain buffers are reordered in and
// out only where the chosen layout differs. The primitive, its reorders, the blocked buffers,
// its scratchpad and the argument maps are built once per (op, shape, thread count) and cached
// in the backend context (onednn_context.h), so a steady-state call allocates nothing of its
// own: it sets the data handles of the cached user memories and executes (oneDNN's execute
// still builds a small argument map per primitive, ~6 allocations, its own cost).
//
// Why `any` rather than plain tags (measured: forward + backward-data + backward-weights, 2
// threads, AVX-512 host, best of 3 runs): with nchw/oihw forced oneDNN falls back to its gemm
// implementation, about 6x slower for depthwise 3x3 (n128 c512 8x8: 80 vs 13 ms), 2x for dense
// 3x3 (n32 32->64 32x32: 42 vs 20 ms) and 1.8x for a stem 3x3/2 (n32 3->32 64x64: 4.8 vs
// 2.7 ms); only pointwise 1x1 (n128 512->512 8x8) is ~5% faster plain (66 vs 70 ms), which
// does not pay for a second code path.
//
// Channels-last (ConvDesc::channels_last) avoids those reorders altogether: oneDNN 2.6 runs nhwc
// on its brgemm and jit kernels. Measured here (n128, 2 threads, fwd / bwd-data / bwd-weights
// in ms, no reorders counted): pointwise 128->128 at 32x32 24 / 24 / 28 nhwc vs 21 / 21 / 22
// blocked, depthwise c128 32x32 7.5 / 12.4 / 10.1 vs 5.4 / 5.4 / 7.9; the blocked path pays
// two reorders per call on top (31.7 ms in all for that pointwise forward), so nhwc wins.
//
// Thread count: backward-weights (and the sgemm path) run in blocks fixed by the shape, each on
// one thread, so results are bit-identical for any thread count (fixed_blocks.h; the forward
// and backward-data primitives compute each output on one thread already, tested in
// tests/kernels/thread_invariance_test.cpp).
//
// Algorithm: convolution_direct, not convolution_auto: auto may choose Winograd for 3x3, which
// is less accurate and would need a looser tolerance against the reference loops.
#include <algorithm>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "core/cpu_allocator.h"
#include "core/error.h"
#include "kernels/conv2d.h"
#include "kernels/cpu/conv2d_checks.h"
#include "kernels/cpu/fixed_blocks.h"
#include "kernels/cpu/onednn/onednn_context.h"
#include "kernels/threading.h"

namespace ar1::kernels::cpu::onednn {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;
constexpr auto kAlgorithm = dnnl::algorithm::convolution_direct;

memory::dims x_dims(const ConvDesc& d) { return {d.n, d.c_in, d.h, d.w}; }
memory::dims y_dims(const ConvDesc& d) { return {d.n, d.c_out, d.oh(), d.ow()}; }
memory::dims w_dims(const ConvDesc& d) {
  if (d.groups == 1) return {d.c_out, d.c_in, d.kh, d.kw};
  return {d.groups, d.c_out / d.groups, d.c_in / d.groups, d.kh, d.kw};
}
Tag activation_tag(const ConvDesc& d) { return d.channels_last ? Tag::nhwc : Tag::nchw; }
memory::desc x_plain(const ConvDesc& d) { return {x_dims(d), kF32, activation_tag(d)}; }
memory::desc y_plain(const ConvDesc& d) { return {y_dims(d), kF32, activation_tag(d)}; }
memory::desc w_plain(const ConvDesc& d) {
  return {w_dims(d), kF32, d.groups == 1 ? Tag::oihw : Tag::goihw};
}
// The type a primitive reads its inputs in: bf16 with ConvDesc::bf16 (the f32 buffers are
// converted by the reorders bind_argument adds); outputs are always f32.
memory::data_type input_type(const ConvDesc& d) {
  return d.bf16 ? memory::data_type::bf16 : kF32;
}
// Channels-last activations are passed as they are (oneDNN has nhwc kernels); plain NCHW ones
// let the primitive choose its blocked layout and are reordered (see the header comment).
memory::desc x_any(const ConvDesc& d, memory::data_type type) {
  return {x_dims(d), type, d.channels_last ? activation_tag(d) : Tag::any};
}
memory::desc y_any(const ConvDesc& d, memory::data_type type) {
  return {y_dims(d), type, d.channels_last ? activation_tag(d) : Tag::any};
}
memory::desc w_any(const ConvDesc& d, memory::data_type type) {
  return {w_dims(d), type, Tag::any};
}
memory::desc bias_desc(const ConvDesc& d) { return {{d.c_out}, kF32, Tag::a}; }
memory::dims strides(const ConvDesc& d) { return {d.stride, d.stride}; }
memory::dims padding(const ConvDesc& d) { return {d.pad, d.pad}; }

// The forward primitive descriptor: used by forward itself and as the hint that backward
// primitive descriptors require.
dnnl::convolution_forward::primitive_desc forward_pd(const ConvDesc& d,
                                                     const dnnl::primitive_attr& attr,
                                                     const dnnl::engine& engine) {
  if (d.bias) {
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, kAlgorithm,
                                         x_any(d, input_type(d)), w_any(d, input_type(d)),
                                         bias_desc(d), y_any(d, kF32), strides(d), padding(d),
                                         padding(d));
    return {desc, attr, engine};
  }
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training, kAlgorithm,
                                       x_any(d, input_type(d)), w_any(d, input_type(d)),
                                       y_any(d, kF32), strides(d), padding(d), padding(d));
  return {desc, attr, engine};
}

dnnl::primitive_attr user_scratchpad_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Wires one argument of the primitive: a plain user memory with no buffer yet (set per call)
// and, when the primitive wants another layout, a buffer in that layout plus a reorder step.
// Inputs get their reorder appended to `before`, outputs to `after`.
memory bind_argument(const memory::desc& plain, const memory::desc& wanted, bool is_output,
                     const dnnl::engine& engine, memory& user, std::vector<ConvStep>& before,
                     std::vector<ConvStep>& after, std::vector<memory>& transient) {
  user = memory(plain, engine, DNNL_MEMORY_NONE);
  if (wanted == plain) return user;
  memory prim(wanted, engine, DNNL_MEMORY_NONE);  // its buffer is borrowed per call
  transient.push_back(prim);
  if (is_output) {
    after.push_back({dnnl::reorder(prim, user), {{DNNL_ARG_FROM, prim}, {DNNL_ARG_TO, user}}});
  } else {
    before.push_back({dnnl::reorder(user, prim), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, prim}}});
  }
  return prim;
}

// Fills `entry` for any of the three ops from its primitive descriptor and the plain/wanted
// descriptors of its two inputs and one output.
template <class PrimitiveDesc, class Primitive>
void fill_entry(ConvEntry& entry, const PrimitiveDesc& pd, const dnnl::engine& engine,
                int in0_arg, const memory::desc& in0_plain, const memory::desc& in0_wanted,
                int in1_arg, const memory::desc& in1_plain, const memory::desc& in1_wanted,
                int out_arg, const memory::desc& out_plain, const memory::desc& out_wanted) {
  std::vector<ConvStep> before, after;
  ConvStep conv{Primitive(pd), {}};
  entry.transient.clear();
  conv.args[in0_arg] = bind_argument(in0_plain, in0_wanted, false, engine, entry.user_in0, before,
                                     after, entry.transient);
  conv.args[in1_arg] = bind_argument(in1_plain, in1_wanted, false, engine, entry.user_in1, before,
                                     after, entry.transient);
  conv.args[out_arg] = bind_argument(out_plain, out_wanted, true, engine, entry.user_out, before,
                                     after, entry.transient);
  const memory::desc scratch_desc = pd.scratchpad_desc();
  if (scratch_desc.get_size() > 0) {
    conv.args[DNNL_ARG_SCRATCHPAD] = memory(scratch_desc, engine, DNNL_MEMORY_NONE);
    entry.transient.push_back(conv.args[DNNL_ARG_SCRATCHPAD]);
  }
  entry.steps = std::move(before);
  entry.steps.push_back(std::move(conv));
  for (ConvStep& step : after) entry.steps.push_back(std::move(step));
}

void build_forward(ConvEntry& entry, const ConvDesc& d, const dnnl::engine& engine) {
  dnnl::primitive_attr attr = user_scratchpad_attr();
  if (d.relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  const auto pd = forward_pd(d, attr, engine);
  fill_entry<decltype(pd), dnnl::convolution_forward>(
      entry, pd, engine,                                  //
      DNNL_ARG_SRC, x_plain(d), pd.src_desc(),            // in0 = x
      DNNL_ARG_WEIGHTS, w_plain(d), pd.weights_desc(),    // in1 = w
      DNNL_ARG_DST, y_plain(d), pd.dst_desc());           // out = y
  if (!d.bias) return;
  entry.user_bias = memory(bias_desc(d), engine, DNNL_MEMORY_NONE);
  for (ConvStep& step : entry.steps) {
    if (step.prim.get_kind() == dnnl::primitive::kind::convolution) {
      step.args[DNNL_ARG_BIAS] = entry.user_bias;
    }
  }
}

void build_backward_data(ConvEntry& entry, const ConvDesc& d, const dnnl::engine& engine) {
  const auto hint = forward_pd(d, dnnl::primitive_attr(), engine);
  dnnl::convolution_backward_data::desc desc(kAlgorithm, x_any(d, kF32),
                                             w_any(d, input_type(d)), y_any(d, input_type(d)),
                                             strides(d), padding(d), padding(d));
  const dnnl::convolution_backward_data::primitive_desc pd(desc, user_scratchpad_attr(), engine,
                                                           hint);
  fill_entry<decltype(pd), dnnl::convolution_backward_data>(
      entry, pd, engine,                                        //
      DNNL_ARG_DIFF_DST, y_plain(d), pd.diff_dst_desc(),        // in0 = dy
      DNNL_ARG_WEIGHTS, w_plain(d), pd.weights_desc(),          // in1 = w
      DNNL_ARG_DIFF_SRC, x_plain(d), pd.diff_src_desc());       // out = dx
}

void build_backward_weights(ConvEntry& entry, const ConvDesc& d, const dnnl::engine& engine) {
  const auto hint = forward_pd(d, dnnl::primitive_attr(), engine);
  dnnl::convolution_backward_weights::desc desc(kAlgorithm, x_any(d, input_type(d)),
                                                w_any(d, kF32), y_any(d, input_type(d)),
                                                strides(d), padding(d), padding(d));
  const dnnl::convolution_backward_weights::primitive_desc pd(desc, user_scratchpad_attr(),
                                                              engine, hint);
  fill_entry<decltype(pd), dnnl::convolution_backward_weights>(
      entry, pd, engine,                                          //
      DNNL_ARG_DIFF_DST, y_plain(d), pd.diff_dst_desc(),          // in0 = dy
      DNNL_ARG_SRC, x_plain(d), pd.src_desc(),                    // in1 = x
      DNNL_ARG_DIFF_WEIGHTS, w_plain(d), pd.diff_weights_desc());  // out = dw
}

OneDnnContext::ConvBuilder builder(CpuOp op) {
  switch (op) {
    case CpuOp::conv_forward: return build_forward;
    case CpuOp::conv_backward_data: return build_backward_data;
    case CpuOp::conv_backward_weights: return build_backward_weights;
  }
  AR1_FAIL("[conv2d] unknown cpu op ", static_cast<int>(op));
}

// Looks the entry up (building it once), points its user memories at the caller's buffers and
// runs its steps: reorders in, the convolution, reorder out. `lane` picks the entry of one
// OpenMP thread when blocks run concurrently (fixed_blocks.h).
void run(CpuOp op, const ConvDesc& d, float* out, const float* in0, const float* in1,
         const float* bias = nullptr, int lane = 0) {
  OneDnnContext& ctx = OneDnnContext::instance();
  const ConvKey key{op, num_threads(), lane, d};
  const std::shared_ptr<ConvEntry> held = ctx.conv(key, builder(op));
  ConvEntry& entry = *held;
  std::lock_guard<std::mutex> lock(entry.mutex);
  // oneDNN only reads inputs; set_data_handle takes a non-const pointer.
  entry.user_in0.set_data_handle(const_cast<float*>(in0));
  entry.user_in1.set_data_handle(const_cast<float*>(in1));
  entry.user_out.set_data_handle(out);
  if (bias != nullptr) entry.user_bias.set_data_handle(const_cast<float*>(bias));
  // Blocked buffers and scratchpad for this call, from the allocator the activations use.
  Allocator& allocator = CpuAllocator::instance();
  std::vector<Block> borrowed;
  borrowed.reserve(entry.transient.size());
  struct GiveBack {
    Allocator& allocator;
    std::vector<Block>& blocks;
    ~GiveBack() {
      for (const Block& b : blocks) allocator.release(b);
    }
  } give_back{allocator, borrowed};
  for (memory& m : entry.transient) {
    borrowed.push_back(allocator.allocate(m.get_desc().get_size()));
    m.set_data_handle(borrowed.back().data);
  }
  for (ConvStep& step : entry.steps) step.prim.execute(entry.stream, step.args);
  entry.stream.wait();
}

// Backward-weights sums over the batch, and oneDNN splits that sum by thread. So the batch is
// cut into blocks of images fixed by the shape; each block's weight gradient is computed by a
// single-threaded primitive into a partial buffer of its own, and the partials are added in
// block order: the same bits on any thread count. A block holds at least kMinBlockPixels output
// pixels (a single-threaded call on fewer does too little work against its fixed costs and
// the partials' extra pass: 512 measured slower on train_step_exp0 at 32 x 32) and there are
// at most kMaxBlocks (the partials' memory).
constexpr int64_t kMinBlockPixels = 2048;
constexpr int64_t kMaxBlocks = 32;

int64_t images_per_block(const ConvDesc& d) {
  return fixed_block_size(d.n, ceil_div(kMinBlockPixels, d.oh() * d.ow()), kMaxBlocks);
}

// Per-thread scratch for the partial sums, kept between calls (grows to the largest need).
std::vector<float>& partials_buffer(size_t count) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < count) buffer.resize(count);
  return buffer;
}

void backward_weights_in_blocks(float* dw, const float* dy, const float* x, const ConvDesc& d) {
  const int64_t per_block = images_per_block(d);
  const int64_t blocks = ceil_div(d.n, per_block);
  const int64_t w_count = d.c_out * (d.c_in / d.groups) * d.kh * d.kw;
  const int64_t x_image = d.c_in * d.h * d.w, y_image = d.c_out * d.oh() * d.ow();
  // Block 0 writes dw itself; blocks 1.. write their partials.
  float* partials = blocks > 1 ? partials_buffer((blocks - 1) * w_count).data() : nullptr;
  for_each_fixed_block(blocks, [&](int64_t b) {
    ConvDesc block = d;
    block.n = std::min(per_block, d.n - b * per_block);
    float* out = b == 0 ? dw : partials + (b - 1) * w_count;
    run(CpuOp::conv_backward_weights, block, out, dy + b * per_block * y_image,
        x + b * per_block * x_image, nullptr, omp_get_thread_num());
  });
  if (blocks == 1) return;
#pragma omp parallel for schedule(static) if (w_count > 4096)
  for (int64_t i = 0; i < w_count; ++i) {
    float sum = dw[i];
    for (int64_t b = 1; b < blocks; ++b) sum += partials[(b - 1) * w_count + i];
    dw[i] = sum;
  }
}

// A channels-last pointwise convolution (1x1, stride 1, no padding, one group) is one GEMM over
// the M = N H W pixel rows: y[M, C_out] = x[M, C_in] w^T, dx = dy w, dw = dy^T x. Where M is
// small oneDNN's sgemm beats its convolution kernels (measured, 2 threads, fwd / bwd-data /
// bwd-weights in ms: C 1024 -> 1024 at 1x1, n 128: 2.6 / 1.4 / 1.4 against 5.2 / 3.5 / 5.1;
// 512 -> 512 at 2x2: 1.6 / 1.2 / 1.2 against 1.5 / 1.2 / 2.0); at 64 x 64 maps they are even.
constexpr int64_t kGemmMaxRows = 2048;

bool is_pointwise(const ConvDesc& d) {
  return d.channels_last && d.kh == 1 && d.kw == 1 && d.stride == 1 && d.pad == 0 &&
         d.groups == 1;
}

bool runs_as_gemm(const ConvDesc& d) {
  return is_pointwise(d) && d.n * d.h * d.w <= kGemmMaxRows;
}

// The convolutions that compute in bf16 when ConvDesc::bf16 asks: the dense ones (pointwise
// and the first layer) on more rows than the sgemm path takes. The others stay f32, measured
// on oneDNN 2.6 (avx512_core_bf16, train_step_exp0 at 32 x 32): its bf16 backward-weights for
// depthwise runs as a general grouped convolution, 13 ms a call on a 2 x 2 map against
// well under 1 in f32, and its bf16 primitives on <= 2048 rows lose against the f32 sgemm.
// Depthwise is bound by memory anyway, where converting inputs costs more than it saves.
ConvDesc effective(const ConvDesc& d) {
  ConvDesc e = d;
  e.bf16 = d.bf16 && d.groups == 1 && !runs_as_gemm(d);
  return e;
}

// Row-major C[m, n] = op(A) op(B) through oneDNN's sgemm.
void sgemm(char trans_a, char trans_b, int64_t m, int64_t n, int64_t k, const float* a,
           int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
  const dnnl_status_t status =
      dnnl_sgemm(trans_a, trans_b, m, n, k, 1.f, a, lda, b, ldb, 0.f, c, ldc);
  AR1_CHECK(status == dnnl_success, "[conv2d] oneDNN sgemm failed with status ",
            static_cast<int>(status));
}

// y[r, c] += bias[c] over `rows` rows of `cols` channels (rows `ld` apart), then ReLU.
void add_bias(float* y, const float* bias, int64_t rows, int64_t cols, int64_t ld, bool relu) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y + r * ld;
    for (int64_t i = 0; i < cols; ++i) {
      const float v = row[i] + bias[i];
      row[i] = relu ? std::max(v, 0.f) : v;
    }
  }
}

// The sgemm path in blocks fixed by the shape (fixed_blocks.h): oneDNN's sgemm picks its
// k-blocking and may split k by thread. C [m, n] is cut along its longer side into at most
// kGemmBlocks blocks of at least kGemmMinBlock rows or columns, so every k-sum runs whole inside
// one single-threaded call, and the operand all blocks share (packed again by each) is the
// smaller one: cutting 128 pixel rows against a 1024 x 1024 weight made every block repack the
// weight (ar1_inc_step at 32 x 32: +21 % against one multi-threaded call, +9 % cut so).
constexpr int64_t kGemmMinBlock = 32;
constexpr int64_t kGemmBlocks = 8;

// Calls gemm_block(first_row, rows, first_col, cols) over C [m, n] in fixed blocks.
template <class GemmBlock>
void gemm_in_blocks(int64_t m, int64_t n, GemmBlock&& gemm_block) {
  for_each_gemm_block(m, n, kGemmMinBlock, kGemmBlocks, gemm_block);
}

}  // namespace

void conv2d_forward(float* y, const float* x, const float* w, const ConvDesc& desc,
                    const float* bias) {
  check_conv_forward(desc, bias);
  const ConvDesc d = effective(desc);
  if (d.n == 0) return;
  if (runs_as_gemm(d)) {
    // y [rows, c_out] = x [rows, c_in] w^T.
    gemm_in_blocks(d.n * d.h * d.w, d.c_out, [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
      float* y_block = y + r0 * d.c_out + c0;
      sgemm('N', 'T', rows, cols, d.c_in, x + r0 * d.c_in, d.c_in, w + c0 * d.c_in, d.c_in,
            y_block, d.c_out);
      if (d.bias) add_bias(y_block, bias + c0, rows, cols, d.c_out, d.relu);
    });
    return;
  }
  run(CpuOp::conv_forward, d, y, x, w, bias);
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& desc) {
  check_conv_backward("conv2d_backward_data", desc);
  const ConvDesc d = effective(desc);
  if (d.n == 0) return;
  if (runs_as_gemm(d)) {
    // dx [rows, c_in] = dy [rows, c_out] w.
    gemm_in_blocks(d.n * d.h * d.w, d.c_in, [&](int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
      sgemm('N', 'N', rows, cols, d.c_out, dy + r0 * d.c_out, d.c_out, w + c0, d.c_in,
            dx + r0 * d.c_in + c0, d.c_in);
    });
    return;
  }
  run(CpuOp::conv_backward_data, d, dx, dy, w);
}

void conv2d_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& desc) {
  check_conv_backward("conv2d_backward_weights", desc);
  const ConvDesc d = effective(desc);
  if (d.n == 0) {  // an empty batch contributes nothing; the output is still overwritten
    std::fill_n(dw, d.c_out * (d.c_in / d.groups) * d.kh * d.kw, 0.f);
    return;
  }
  if (runs_as_gemm(d)) {
    // dw[o, i] = sum over pixel rows r of dy[r, o] x[r, i]: output-channel rows in blocks.
    gemm_in_blocks(d.c_out, d.c_in, [&](int64_t o0, int64_t outs, int64_t i0, int64_t ins) {
      sgemm('T', 'N', outs, ins, d.n * d.h * d.w, dy + o0, d.c_out, x + i0, d.c_in,
            dw + o0 * d.c_in + i0, d.c_in);
    });
    return;
  }
  backward_weights_in_blocks(dw, dy, x, d);
}

}  // namespace ar1::kernels::cpu::onednn
