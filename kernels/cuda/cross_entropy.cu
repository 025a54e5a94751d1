// Fused log-softmax + cross-entropy on a GPU: one thread per row (the row math is the CPU's,
// kernels/math/cross_entropy.h), the batch mean in the fixed order of
// kernels/cuda/channel_reduction.cuh. The label check costs one 8-byte read by the host per
// forward, not one per element; the backward reads grad_loss on the device. Inside a CUDA graph
// capture there is no host read: the bad row goes to the context's deferred-error word, which
// kernels::check_deferred_errors() reads after the replays.
#include "kernels/cross_entropy.h"
#include "kernels/cuda/channel_reduction.cuh"
#include "kernels/math/cross_entropy.h"

namespace ar1::kernels::cuda {

namespace {

// Row i's loss into row_loss[i]; a bad label records the smallest bad row (order-free).
__device__ inline void row_at(int64_t i, double* row_loss, unsigned long long* first_bad,
                              float* log_probs, const float* logits, const int64_t* labels,
                              const CrossEntropyDesc& d) {
  const int64_t label = labels[i];
  if (!math::label_valid(label, d)) {
    atomicMin(first_bad, static_cast<unsigned long long>(i));
    row_loss[i] = 0.0;
    // Defined values (a replayed graph reports the label only after its steps): the backward
    // gives such a row a zero gradient.
    for (int64_t c = 0; c < d.classes; ++c) log_probs[i * d.classes + c] = 0.f;
    return;
  }
  row_loss[i] = math::log_softmax_row(log_probs + i * d.classes, logits + i * d.classes, label, d);
}

}  // namespace

int64_t cross_entropy_forward(Device device, float* loss, float* log_probs, const float* logits,
                              const int64_t* labels, const CrossEntropyDesc& d) {
  Context& ctx = Context::get(device);
  Scratch rows(ctx, static_cast<size_t>(d.n > 0 ? d.n : 1) * sizeof(double));
  Scratch bad(ctx, sizeof(unsigned long long));
  const bool deferred = ctx.capturing();
  // All ones: no bad row (a capturable memset, unlike a copy from the host's stack).
  unsigned long long* first = deferred ? ctx.deferred_bad_label() : bad.as<unsigned long long>();
  if (!deferred) {
    check(cudaMemsetAsync(first, 0xff, sizeof(unsigned long long), ctx.stream()),
          "cudaMemsetAsync");
  }
  double* rows_out = rows.as<double>();
  for_each_index(ctx, d.n, [=] __device__(int64_t i) {
    row_at(i, rows_out, first, log_probs, logits, labels, d);
  }, "cross_entropy");
  const double* row_loss = rows.as<double>();
  const int64_t n = d.n;
  channel_reduce(
      ctx, 1, n, [=] __device__(int64_t, int64_t j) { return TermPair{row_loss[j], 0.0}; },
      [=] __device__(int64_t, double total, double) {
        *loss = n > 0 ? static_cast<float>(total / static_cast<double>(n)) : 0.f;
      },
      "cross_entropy");
  if (deferred) return -1;
  const unsigned long long none = ~0ull;
  unsigned long long first_bad = none;
  check(cudaMemcpyAsync(&first_bad, first, sizeof first_bad, cudaMemcpyDeviceToHost,
                        ctx.stream()),
        "cudaMemcpyAsync");
  check(cudaStreamSynchronize(ctx.stream()), "cudaStreamSynchronize");
  return first_bad < none ? static_cast<int64_t>(first_bad) : -1;
}

void cross_entropy_backward(Device device, float* dlogits, const float* log_probs,
                            const int64_t* labels, const float* grad_loss,
                            const CrossEntropyDesc& d) {
  for_each_index(Context::get(device), d.n * d.classes, [=] __device__(int64_t i) {
    const int64_t row = i / d.classes, c = i % d.classes;
    dlogits[i] = math::label_valid(labels[row], d)
                     ? math::cross_entropy_grad(log_probs[i], c == labels[row],
                                                math::cross_entropy_scale(*grad_loss, d))
                     : 0.f;
  }, "cross_entropy backward");
}

}  // namespace ar1::kernels::cuda
