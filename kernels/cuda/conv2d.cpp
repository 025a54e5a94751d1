// The CUDA convolution entry points: depthwise shapes on our own kernels
// (kernels/cuda/depthwise_conv2d.cu), every other convolution (dense 3x3 stride 2, pointwise)
// on cuDNN. AR1_CUDA_DEPTHWISE=cudnn sends depthwise shapes to cuDNN's grouped convolution
// too, so that the two can be timed against each other on a GPU. Each cuDNN shape and direction gets a plan once: descriptors, and the fastest
// algorithm by cuDNN's own timing (cudnnFind*AlgorithmEx) whose workspace fits; plans live in
// the context's LRU cache and their workspace comes from the caching allocator. TF32 is off
// (CUDNN_FMA_MATH) unless AR1_CUDA_TF32=1, so fp32 results match the CPU's.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "core/error.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv2d_epilogue.h"
#include "kernels/cuda/depthwise_conv2d.h"
#include "kernels/cuda/status.h"
#include "kernels/cuda/tensor_copy.h"
#include "kernels/math/depthwise_conv2d.h"

namespace ar1::kernels::cuda {

ConvPlan::ConvPlan(ConvPlan&& o) noexcept
    : x(o.x), y(o.y), w(o.w), conv(o.conv), algorithm(o.algorithm), workspace(o.workspace) {
  o.x = o.y = nullptr;
  o.w = nullptr;
  o.conv = nullptr;
}

ConvPlan::~ConvPlan() {
  if (x != nullptr) cudnnDestroyTensorDescriptor(x);
  if (y != nullptr) cudnnDestroyTensorDescriptor(y);
  if (w != nullptr) cudnnDestroyFilterDescriptor(w);
  if (conv != nullptr) cudnnDestroyConvolutionDescriptor(conv);
}

namespace {

// The most workspace a plan may take; cuDNN's candidates needing more are skipped.
constexpr size_t kMaxWorkspace = size_t{256} << 20;
constexpr int kCandidates = 16;

// Whether `d` runs on our own depthwise kernels.
bool own_depthwise(const ConvDesc& d) {
  static const bool cudnn_only = [] {
    const char* v = std::getenv("AR1_CUDA_DEPTHWISE");
    return v != nullptr && std::string(v) == "cudnn";
  }();
  return !cudnn_only && math::depthwise_supported(d);
}

int to_int(int64_t v, const char* what) {
  AR1_CHECK(v >= 0 && v <= (int64_t{1} << 31) - 1, "[conv2d] ", what, " ", v,
            " exceeds cuDNN's int range");
  return static_cast<int>(v);
}

ConvPlan describe(Context& ctx, const ConvDesc& d) {
  ConvPlan p;
  const cudnnTensorFormat_t format = CUDNN_TENSOR_NCHW;  // channels-last is converted first
  check(cudnnCreateTensorDescriptor(&p.x), "cudnnCreateTensorDescriptor");
  check(cudnnCreateTensorDescriptor(&p.y), "cudnnCreateTensorDescriptor");
  check(cudnnCreateFilterDescriptor(&p.w), "cudnnCreateFilterDescriptor");
  check(cudnnCreateConvolutionDescriptor(&p.conv), "cudnnCreateConvolutionDescriptor");
  check(cudnnSetTensor4dDescriptor(p.x, format, CUDNN_DATA_FLOAT, to_int(d.n, "batch"),
                                   to_int(d.c_in, "channels"), to_int(d.h, "height"),
                                   to_int(d.w, "width")),
        "cudnnSetTensor4dDescriptor (input)");
  check(cudnnSetTensor4dDescriptor(p.y, format, CUDNN_DATA_FLOAT, to_int(d.n, "batch"),
                                   to_int(d.c_out, "channels"), to_int(d.oh(), "height"),
                                   to_int(d.ow(), "width")),
        "cudnnSetTensor4dDescriptor (output)");
  check(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                   to_int(d.c_out, "channels"),
                                   to_int(d.c_in / d.groups, "channels"), to_int(d.kh, "kernel"),
                                   to_int(d.kw, "kernel")),
        "cudnnSetFilter4dDescriptor");
  check(cudnnSetConvolution2dDescriptor(p.conv, to_int(d.pad, "padding"),
                                        to_int(d.pad, "padding"), to_int(d.stride, "stride"),
                                        to_int(d.stride, "stride"), 1, 1,
                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
  check(cudnnSetConvolutionGroupCount(p.conv, to_int(d.groups, "groups")),
        "cudnnSetConvolutionGroupCount");
  check(cudnnSetConvolutionMathType(p.conv, ctx.tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH),
        "cudnnSetConvolutionMathType");
  return p;
}

// cuDNN's first-ranked candidate that succeeds and fits the workspace cap (and, in
// deterministic mode, is deterministic); its workspace size is asked again for that algorithm.
template <class Perf>
int pick(const Perf* perf, int returned, const char* direction) {
  const bool deterministic_only = Context::deterministic();
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status == CUDNN_STATUS_SUCCESS &&
        (!deterministic_only || perf[i].determinism == CUDNN_DETERMINISTIC) &&
        perf[i].memory <= kMaxWorkspace) {
      return static_cast<int>(perf[i].algo);
    }
  }
  AR1_FAIL("[conv2d] cuDNN has no ", deterministic_only ? "deterministic " : "", direction, " algorithm for this shape within ",
           kMaxWorkspace >> 20, " MiB of workspace");
}

// The smallest power-of-two alignment (up to 256 bytes) of the op's buffers: an algorithm
// chosen for aligned buffers need not run on a view at an odd element offset.
int64_t alignment_of(std::initializer_list<const void*> ptrs) {
  int64_t a = 256;
  for (const void* p : ptrs) {
    const auto v = reinterpret_cast<uintptr_t>(p);
    while (a > 1 && v % static_cast<uintptr_t>(a) != 0) a /= 2;
  }
  return a;
}

// The plan of (d, direction): cuDNN's heuristics rank the algorithms (no timing, so the same
// shape gets the same algorithm on every run; deterministic mode also makes its bits the same).
ConvPlan& plan_for(Context& ctx, const ConvDesc& d, ConvDirection dir, int64_t alignment) {
  const int64_t math = int64_t{ctx.tf32()} | int64_t{Context::deterministic()} << 1;
  return ctx.conv_plans().get(ConvPlanKey(d, dir, math, alignment), [&] {
    ConvPlan p = describe(ctx, d);
    int returned = 0;
    switch (dir) {
      case ConvDirection::forward: {
        std::array<cudnnConvolutionFwdAlgoPerf_t, kCandidates> perf{};
        check(cudnnGetConvolutionForwardAlgorithm_v7(ctx.cudnn(), p.x, p.w, p.conv, p.y,
                                                     kCandidates, &returned, perf.data()),
              "cudnnGetConvolutionForwardAlgorithm_v7");
        p.algorithm = pick(perf.data(), returned, "forward");
        check(cudnnGetConvolutionForwardWorkspaceSize(
                  ctx.cudnn(), p.x, p.w, p.conv, p.y,
                  static_cast<cudnnConvolutionFwdAlgo_t>(p.algorithm), &p.workspace),
              "cudnnGetConvolutionForwardWorkspaceSize");
        break;
      }
      case ConvDirection::backward_data: {
        std::array<cudnnConvolutionBwdDataAlgoPerf_t, kCandidates> perf{};
        check(cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx.cudnn(), p.w, p.y, p.conv, p.x,
                                                          kCandidates, &returned, perf.data()),
              "cudnnGetConvolutionBackwardDataAlgorithm_v7");
        p.algorithm = pick(perf.data(), returned, "backward-data");
        check(cudnnGetConvolutionBackwardDataWorkspaceSize(
                  ctx.cudnn(), p.w, p.y, p.conv, p.x,
                  static_cast<cudnnConvolutionBwdDataAlgo_t>(p.algorithm), &p.workspace),
              "cudnnGetConvolutionBackwardDataWorkspaceSize");
        break;
      }
      case ConvDirection::backward_weights: {
        std::array<cudnnConvolutionBwdFilterAlgoPerf_t, kCandidates> perf{};
        check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx.cudnn(), p.x, p.y, p.conv, p.w,
                                                            kCandidates, &returned, perf.data()),
              "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
        p.algorithm = pick(perf.data(), returned, "backward-weights");
        check(cudnnGetConvolutionBackwardFilterWorkspaceSize(
                  ctx.cudnn(), p.x, p.y, p.conv, p.w,
                  static_cast<cudnnConvolutionBwdFilterAlgo_t>(p.algorithm), &p.workspace),
              "cudnnGetConvolutionBackwardFilterWorkspaceSize");
        break;
      }
    }
    return p;
  });
}

// Channels-last activations for cuDNN: its fp32 engines need not take NHWC activations with our
// [C_out, C_in/groups, KH, KW] weights, so they are converted through scratch buffers (nn runs
// plain on a GPU, kernels::preferred_activation_layout, so only direct callers pay this).
size_t activation_bytes(int64_t n, int64_t c, int64_t h, int64_t w) {
  return static_cast<size_t>(n * c * h * w) * sizeof(float);
}

void planar_from_channels_last(Context& ctx, float* dst, const float* src, int64_t n, int64_t c,
                               int64_t h, int64_t w) {
  StridedView v;
  v.ndim = 4;
  const int64_t shape[4] = {n, c, h, w}, strides[4] = {h * w * c, 1, w * c, c};
  for (int i = 0; i < 4; ++i) v.shape[i] = shape[i], v.strides[i] = strides[i];
  gather_strided(ctx, dst, src, v, sizeof(float));
}

void channels_last_from_planar(Context& ctx, float* dst, const float* src, int64_t n, int64_t c,
                               int64_t h, int64_t w) {
  StridedView v;  // the dense [N, H, W, C] order, read from [N, C, H, W]
  v.ndim = 4;
  const int64_t shape[4] = {n, h, w, c}, strides[4] = {c * h * w, w, 1, h * w};
  for (int i = 0; i < 4; ++i) v.shape[i] = shape[i], v.strides[i] = strides[i];
  gather_strided(ctx, dst, src, v, sizeof(float));
}

}  // namespace

void conv2d_forward(Device device, float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias) {
  Context& ctx = Context::get(device);
  if (own_depthwise(d)) return depthwise_forward(ctx, y, x, w, bias, d);
  if (d.channels_last) {
    ConvDesc q = d;
    q.channels_last = false;
    Scratch xs(ctx, activation_bytes(d.n, d.c_in, d.h, d.w));
    Scratch ys(ctx, activation_bytes(d.n, d.c_out, d.oh(), d.ow()));
    planar_from_channels_last(ctx, xs.as<float>(), x, d.n, d.c_in, d.h, d.w);
    cuda::conv2d_forward(device, ys.as<float>(), xs.as<float>(), w, q, bias);
    channels_last_from_planar(ctx, y, ys.as<float>(), d.n, d.c_out, d.oh(), d.ow());
    return;
  }
  ConvDesc plain = d;  // the plan is the same with or without the epilogue
  plain.bias = plain.relu = false;
  ConvPlan& p = plan_for(ctx, plain, ConvDirection::forward, alignment_of({x, w, y}));
  Scratch ws(ctx, p.workspace);
  const float one = 1.f, zero = 0.f;
  check(cudnnConvolutionForward(ctx.cudnn(), &one, p.x, x, p.w, w, p.conv,
                                static_cast<cudnnConvolutionFwdAlgo_t>(p.algorithm),
                                ws.as<void>(), p.workspace, &zero, p.y, y),
        "cudnnConvolutionForward");
  if (d.bias || d.relu) conv2d_epilogue(ctx, y, bias, d);
}

void conv2d_backward_data(Device device, float* dx, const float* dy, const float* w,
                          const ConvDesc& d) {
  Context& ctx = Context::get(device);
  if (own_depthwise(d)) return depthwise_backward_data(ctx, dx, dy, w, d);
  if (d.channels_last) {
    ConvDesc q = d;
    q.channels_last = false;
    Scratch dys(ctx, activation_bytes(d.n, d.c_out, d.oh(), d.ow()));
    Scratch dxs(ctx, activation_bytes(d.n, d.c_in, d.h, d.w));
    planar_from_channels_last(ctx, dys.as<float>(), dy, d.n, d.c_out, d.oh(), d.ow());
    cuda::conv2d_backward_data(device, dxs.as<float>(), dys.as<float>(), w, q);
    channels_last_from_planar(ctx, dx, dxs.as<float>(), d.n, d.c_in, d.h, d.w);
    return;
  }
  ConvDesc plain = d;
  plain.bias = plain.relu = false;
  ConvPlan& p = plan_for(ctx, plain, ConvDirection::backward_data, alignment_of({dy, w, dx}));
  Scratch ws(ctx, p.workspace);
  const float one = 1.f, zero = 0.f;
  check(cudnnConvolutionBackwardData(ctx.cudnn(), &one, p.w, w, p.y, dy, p.conv,
                                     static_cast<cudnnConvolutionBwdDataAlgo_t>(p.algorithm),
                                     ws.as<void>(), p.workspace, &zero, p.x, dx),
        "cudnnConvolutionBackwardData");
}

void conv2d_backward_weights(Device device, float* dw, const float* dy, const float* x,
                             const ConvDesc& d) {
  Context& ctx = Context::get(device);
  if (own_depthwise(d)) return depthwise_backward_weights(ctx, dw, dy, x, d);
  if (d.channels_last) {
    ConvDesc q = d;
    q.channels_last = false;
    Scratch dys(ctx, activation_bytes(d.n, d.c_out, d.oh(), d.ow()));
    Scratch xs(ctx, activation_bytes(d.n, d.c_in, d.h, d.w));
    planar_from_channels_last(ctx, dys.as<float>(), dy, d.n, d.c_out, d.oh(), d.ow());
    planar_from_channels_last(ctx, xs.as<float>(), x, d.n, d.c_in, d.h, d.w);
    return cuda::conv2d_backward_weights(device, dw, dys.as<float>(), xs.as<float>(), q);
  }
  ConvDesc plain = d;
  plain.bias = plain.relu = false;
  ConvPlan& p =
      plan_for(ctx, plain, ConvDirection::backward_weights, alignment_of({dy, x, dw}));
  Scratch ws(ctx, p.workspace);
  const float one = 1.f, zero = 0.f;
  check(cudnnConvolutionBackwardFilter(ctx.cudnn(), &one, p.x, x, p.y, dy, p.conv,
                                       static_cast<cudnnConvolutionBwdFilterAlgo_t>(p.algorithm),
                                       ws.as<void>(), p.workspace, &zero, p.w, dw),
        "cudnnConvolutionBackwardFilter");
}

}  // namespace ar1::kernels::cuda
