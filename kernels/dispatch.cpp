// The one place that names both backends: every op's public kernel entry point picks the CPU
// or CUDA implementation from the device, and the CPU convolutions the kernel set in use
// (kernels/cpu_kernels.h: portable or oneDNN). To add an op: declare it in kernels/<op>.h (dispatch
// signature, cpu::, cuda::), give kernels/no_cuda/no_cuda.cpp its cuda:: stub, and add one
// function here. No #ifdef: a build without CUDA links the stubs, which name the op and the fix.
#include <cstring>

#include "core/device_backend.h"
#include "core/error.h"
#include "kernels/batch_renorm.h"
#include "kernels/conv2d.h"
#include "kernels/cpu_kernels.h"
#include "kernels/cross_entropy.h"
#include "kernels/cwr_star.h"
#include "kernels/dequantize.h"
#include "kernels/device.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/pooling.h"
#include "kernels/reduce.h"
#include "kernels/sgd.h"
#include "kernels/synaptic_intelligence.h"

namespace ar1::kernels {

namespace {
// Any program that runs an op links this file, and with it the CUDA backend's registration
// and the check that this CPU runs the kernels' instruction set.
const bool backend_registered = (cpu::check_compiled_isa(), cuda::register_backend(), true);
}  // namespace

// ---------------------------------------------------------------- devices

bool built_with_cuda() { return cuda::built(); }
int cuda_device_count() { return cuda::device_count(); }
std::vector<std::string> cuda_device_names() { return cuda::device_names(); }
std::string cuda_versions() { return cuda::versions(); }

std::string cpu_isa_name() {
  return cpu_kernels() == CpuKernels::onednn ? cpu::onednn::isa_name()
                                             : cpu::portable::isa_name();
}

void require_device(Device device) {
  (void)backend_registered;
  if (device.is_cuda()) cuda::require_device(device);
}

ActivationLayout preferred_activation_layout(Device device) {
  return device.is_cuda() ? cuda::preferred_activation_layout() : ActivationLayout::channels_last;
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    if (bytes > 0) std::memcpy(dst, src, bytes);
    return;
  }
  device_backend(dst_device.is_cuda() ? dst_device : src_device)
      .copy_bytes(dst, dst_device, src, src_device, bytes);
}

// ---------------------------------------------------------------- conv2d

namespace {
// bf16 convolutions (kernels/precision.h) have CPU kernels only.
void require_f32_on_cuda(const ConvDesc& d) {
  AR1_CHECK(!d.bf16, "[conv2d] bf16 precision runs on the CPU only: use --precision f32 with "
                     "--device cuda");
}
}  // namespace

namespace cpu {

// The CPU convolutions of the set in use (kernels/cpu_kernels.h).
void conv2d_forward(float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias) {
  if (cpu_kernels() == CpuKernels::onednn) return onednn::conv2d_forward(y, x, w, d, bias);
  portable::conv2d_forward(y, x, w, d, bias);
}

void conv2d_backward_data(float* dx, const float* dy, const float* w, const ConvDesc& d) {
  if (cpu_kernels() == CpuKernels::onednn) return onednn::conv2d_backward_data(dx, dy, w, d);
  portable::conv2d_backward_data(dx, dy, w, d);
}

void conv2d_backward_weights(float* dw, const float* dy, const float* x, const ConvDesc& d) {
  if (cpu_kernels() == CpuKernels::onednn) return onednn::conv2d_backward_weights(dw, dy, x, d);
  portable::conv2d_backward_weights(dw, dy, x, d);
}

}  // namespace cpu

void conv2d_forward(Device device, float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias) {
  if (device.is_cuda()) {
    require_f32_on_cuda(d);
    return cuda::conv2d_forward(device, y, x, w, d, bias);
  }
  cpu::conv2d_forward(y, x, w, d, bias);
}

void conv2d_backward_data(Device device, float* dx, const float* dy, const float* w,
                          const ConvDesc& d) {
  if (device.is_cuda()) {
    require_f32_on_cuda(d);
    return cuda::conv2d_backward_data(device, dx, dy, w, d);
  }
  cpu::conv2d_backward_data(dx, dy, w, d);
}

void conv2d_backward_weights(Device device, float* dw, const float* dy, const float* x,
                             const ConvDesc& d) {
  if (device.is_cuda()) {
    require_f32_on_cuda(d);
    return cuda::conv2d_backward_weights(device, dw, dy, x, d);
  }
  cpu::conv2d_backward_weights(dw, dy, x, d);
}

bool conv2d_forward_scaled(Device device, float* y, const float* x, const float* w,
                           const float* w_scale, const ConvDesc& d, const float* bias) {
  if (device.is_cuda() || cpu_kernels() != CpuKernels::portable) return false;
  return cpu::portable::conv2d_forward_scaled(y, x, w, w_scale, d, bias);
}

bool conv2d_relu_backward(Device device, float* dx, float* dw, float* db, const float* dy,
                          const float* y, const float* x, const float* w, const ConvDesc& d) {
  if (device.is_cuda() || cpu_kernels() != CpuKernels::portable) return false;
  return cpu::portable::conv2d_relu_backward(dx, dw, db, dy, y, x, w, d);
}

// ---------------------------------------------------------------- elementwise

void binary_forward(Device device, float* y, const float* a, const float* b,
                    const BinaryDesc& d) {
  if (device.is_cuda()) return cuda::binary_forward(device, y, a, b, d);
  cpu::binary_forward(y, a, b, d);
}

void relu_forward(Device device, float* y, const float* x, int64_t n) {
  if (device.is_cuda()) return cuda::relu_forward(device, y, x, n);
  cpu::relu_forward(y, x, n);
}

void relu_backward(Device device, float* dx, const float* dy, const float* y, int64_t n) {
  if (device.is_cuda()) return cuda::relu_backward(device, dx, dy, y, n);
  cpu::relu_backward(dx, dy, y, n);
}

void fill(Device device, float* y, float value, int64_t n) {
  if (device.is_cuda()) return cuda::fill(device, y, value, n);
  cpu::fill(y, value, n);
}

void scale(Device device, float* y, const float* x, float alpha, int64_t n) {
  if (device.is_cuda()) return cuda::scale(device, y, x, alpha, n);
  cpu::scale(y, x, alpha, n);
}

// ---------------------------------------------------------------- reductions

void sum_all(Device device, float* y, const float* x, int64_t n) {
  if (device.is_cuda()) return cuda::sum_all(device, y, x, n);
  cpu::sum_all(y, x, n);
}

bool any_nonfinite(Device device, const float* x, int64_t n) {
  if (n <= 0) return false;
  if (device.is_cuda()) return cuda::any_nonfinite(device, x, n);
  return cpu::any_nonfinite(x, n);
}

void channel_sum(Device device, float* y, const float* x, const ChannelSumDesc& d) {
  if (device.is_cuda()) return cuda::channel_sum(device, y, x, d);
  cpu::channel_sum(y, x, d);
}

// ---------------------------------------------------------------- pooling, matmul, loss

void avg_pool2d_forward(Device device, float* y, const float* x, const AvgPoolDesc& d) {
  if (device.is_cuda()) return cuda::avg_pool2d_forward(device, y, x, d);
  cpu::avg_pool2d_forward(y, x, d);
}

void avg_pool2d_backward(Device device, float* dx, const float* dy, const AvgPoolDesc& d) {
  if (device.is_cuda()) return cuda::avg_pool2d_backward(device, dx, dy, d);
  cpu::avg_pool2d_backward(dx, dy, d);
}

void matmul(Device device, float* c, const float* a, const float* b, const MatmulDesc& d) {
  if (device.is_cuda()) return cuda::matmul(device, c, a, b, d);
  cpu::matmul(c, a, b, d);
}

int64_t cross_entropy_forward(Device device, float* loss, float* log_probs, const float* logits,
                              const int64_t* labels, const CrossEntropyDesc& d) {
  if (device.is_cuda()) return cuda::cross_entropy_forward(device, loss, log_probs, logits, labels, d);
  return cpu::cross_entropy_forward(loss, log_probs, logits, labels, d);
}

void cross_entropy_backward(Device device, float* dlogits, const float* log_probs,
                            const int64_t* labels, const float* grad_loss,
                            const CrossEntropyDesc& d) {
  if (device.is_cuda()) {
    return cuda::cross_entropy_backward(device, dlogits, log_probs, labels, grad_loss, d);
  }
  cpu::cross_entropy_backward(dlogits, log_probs, labels, grad_loss, d);
}

// ---------------------------------------------------------------- batch renormalization

void batch_renorm_train_forward(Device device, float* y, const BatchReNormSaved& saved,
                                float* running_mean, float* running_std, const float* x,
                                const float* gamma, const float* beta,
                                const BatchReNormDesc& desc) {
  if (device.is_cuda()) {
    return cuda::batch_renorm_train_forward(device, y, saved, running_mean, running_std, x, gamma,
                                            beta, desc);
  }
  cpu::batch_renorm_train_forward(y, saved, running_mean, running_std, x, gamma, beta, desc);
}

void batch_renorm_eval_forward(Device device, float* y, const float* x, const float* gamma,
                               const float* beta, const float* running_mean,
                               const float* running_std, const BatchReNormDesc& desc) {
  if (device.is_cuda()) {
    return cuda::batch_renorm_eval_forward(device, y, x, gamma, beta, running_mean, running_std,
                                           desc);
  }
  cpu::batch_renorm_eval_forward(y, x, gamma, beta, running_mean, running_std, desc);
}

void batch_renorm_apply_saved(Device device, float* y, const float* x, const float* affine,
                              const BatchReNormDesc& desc) {
  AR1_CHECK(!device.is_cuda(), "[batch_renorm_apply_saved] the saved affine map is CPU-only: "
            "keep y on a GPU");
  cpu::batch_renorm_apply_saved(y, x, affine, desc);
}

void batch_renorm_backward(Device device, float* dx, float* dgamma, float* dbeta, const float* dy,
                           const float* x, const float* y, const float* gamma, const float* mean,
                           const float* inv_std, const float* r, const float* d,
                           const BatchReNormDesc& desc, const float* relu_affine) {
  if (device.is_cuda()) {
    AR1_CHECK(relu_affine == nullptr, "[batch_renorm_backward] the ReLU mask from the saved "
              "affine map is CPU-only: pass y on a GPU");
    return cuda::batch_renorm_backward(device, dx, dgamma, dbeta, dy, x, y, gamma, mean, inv_std,
                                       r, d, desc);
  }
  cpu::batch_renorm_backward(dx, dgamma, dbeta, dy, x, y, gamma, mean, inv_std, r, d, desc,
                             relu_affine);
}

void batch_renorm_eval_affine(Device device, float* scale, float* shift, const float* gamma,
                              const float* beta, const float* running_mean,
                              const float* running_std, int64_t c) {
  if (device.is_cuda()) {
    return cuda::batch_renorm_eval_affine(device, scale, shift, gamma, beta, running_mean,
                                          running_std, c);
  }
  cpu::batch_renorm_eval_affine(scale, shift, gamma, beta, running_mean, running_std, c);
}

void batch_renorm_folded_grads(Device device, float* dw, float* dgamma, const float* dfolded,
                               const float* w, const float* scale, const float* db,
                               const float* running_mean, const float* running_std,
                               const FoldedGradDesc& desc) {
  if (device.is_cuda()) {
    return cuda::batch_renorm_folded_grads(device, dw, dgamma, dfolded, w, scale, db,
                                           running_mean, running_std, desc);
  }
  cpu::batch_renorm_folded_grads(dw, dgamma, dfolded, w, scale, db, running_mean, running_std,
                                 desc);
}

// ---------------------------------------------------------------- optimiser and AR1 updates

void sgd_update(Device device, float* w, float* velocity, const float* grad, const SgdDesc& desc) {
  if (device.is_cuda()) return cuda::sgd_update(device, w, velocity, grad, desc);
  cpu::sgd_update(w, velocity, grad, desc);
}

void si_accumulate(Device device, float* trajectory, const float* grad, const float* now,
                   const float* before, int64_t n) {
  if (device.is_cuda()) return cuda::si_accumulate(device, trajectory, grad, now, before, n);
  cpu::si_accumulate(trajectory, grad, now, before, n);
}

void si_consolidate(Device device, float* cumulative, float* importance, const float* theta,
                    const float* theta_star, const float* trajectory,
                    const SiConsolidateDesc& desc) {
  if (device.is_cuda()) {
    return cuda::si_consolidate(device, cumulative, importance, theta, theta_star, trajectory,
                                desc);
  }
  cpu::si_consolidate(cumulative, importance, theta, theta_star, trajectory, desc);
}

void cwr_consolidate(Device device, float* saved, const float* w, const int64_t* row_index,
                     const double* row_weight, const CwrDesc& desc) {
  if (device.is_cuda()) return cuda::cwr_consolidate(device, saved, w, row_index, row_weight, desc);
  cpu::cwr_consolidate(saved, w, row_index, row_weight, desc);
}

void dequantize_rows(Device device, float* out, const void* q, const float* scale,
                     const float* offset, const DequantizeDesc& desc) {
  if (device.is_cuda()) return cuda::dequantize_rows(device, out, q, scale, offset, desc);
  cpu::dequantize_rows(out, q, scale, offset, desc);
}

}  // namespace ar1::kernels
