// The one place that names both backends: every op's public kernel entry point picks the CPU
// or CUDA implementation from the device. To add an op: declare it in kernels/<op>.h (dispatch
// signature, cpu::, cuda:: when it exists) and add one function here.
#include <cstring>

#include "core/error.h"
#include "kernels/conv2d.h"
#include "kernels/cross_entropy.h"
#include "kernels/device.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/pooling.h"
#include "kernels/reduce.h"

namespace ar1::kernels {

namespace {

[[noreturn]] void no_cuda(const char* op) {
#ifdef AR1_WITH_CUDA
  AR1_FAIL("[", op, "] has no CUDA implementation yet; run it on the cpu (--device cpu)");
#else
  AR1_FAIL("[", op, "] this build has no CUDA backend; rebuild with -DAR1_CUDA=ON on a machine "
           "with the CUDA toolkit, or run on the cpu (--device cpu)");
#endif
}

}  // namespace

// ---------------------------------------------------------------- devices

bool built_with_cuda() {
#ifdef AR1_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef AR1_WITH_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

std::vector<std::string> cuda_device_names() {
#ifdef AR1_WITH_CUDA
  return cuda::device_names();
#else
  return {};
#endif
}

void require_device(Device device) {
  if (device.is_cpu()) return;
  AR1_CHECK(built_with_cuda(), "[device] ", device.str(), " requested but this build has no CUDA "
            "backend; rebuild with -DAR1_CUDA=ON where nvcc is installed, or use --device cpu");
  const int count = cuda_device_count();
  AR1_CHECK(count > 0, "[device] ", device.str(), " requested but no CUDA GPU was found "
            "(driver missing or no device visible); use --device cpu");
  AR1_CHECK(device.index >= 0 && device.index < count, "[device] ", device.str(),
            " requested but only ", count, " CUDA device(s) exist");
}

void* device_allocate(Device device, size_t bytes) {
  AR1_CHECK(device.is_cuda(), "[device_allocate] cpu memory comes from Storage::allocate");
  require_device(device);
#ifdef AR1_WITH_CUDA
  return cuda::allocate(bytes);
#else
  (void)bytes;
  no_cuda("device_allocate");
#endif
}

void (*device_deleter(Device device))(void*) {
  if (device.is_cpu()) return nullptr;
#ifdef AR1_WITH_CUDA
  return &cuda::free;
#else
  no_cuda("device_deleter");
#endif
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    if (bytes > 0) std::memcpy(dst, src, bytes);
    return;
  }
#ifdef AR1_WITH_CUDA
  cuda::copy_bytes(dst, dst_device.is_cuda(), src, src_device.is_cuda(), bytes);
#else
  no_cuda("copy_bytes");
#endif
}

// ---------------------------------------------------------------- conv2d

void conv2d_forward(Device device, float* y, const float* x, const float* w, const ConvDesc& d,
                    const float* bias) {
  if (device.is_cuda()) no_cuda("conv2d");
  cpu::conv2d_forward(y, x, w, d, bias);
}

void conv2d_backward_data(Device device, float* dx, const float* dy, const float* w,
                          const ConvDesc& d) {
  if (device.is_cuda()) no_cuda("conv2d backward");
  cpu::conv2d_backward_data(dx, dy, w, d);
}

void conv2d_backward_weights(Device device, float* dw, const float* dy, const float* x,
                             const ConvDesc& d) {
  if (device.is_cuda()) no_cuda("conv2d backward");
  cpu::conv2d_backward_weights(dw, dy, x, d);
}

// ---------------------------------------------------------------- elementwise

void binary_forward(Device device, float* y, const float* a, const float* b,
                    const BinaryDesc& d) {
  if (device.is_cuda()) no_cuda("binary op");
  cpu::binary_forward(y, a, b, d);
}

void relu_forward(Device device, float* y, const float* x, int64_t n) {
  if (device.is_cuda()) no_cuda("relu");
  cpu::relu_forward(y, x, n);
}

void relu_backward(Device device, float* dx, const float* dy, const float* y, int64_t n) {
  if (device.is_cuda()) no_cuda("relu backward");
  cpu::relu_backward(dx, dy, y, n);
}

void fill(Device device, float* y, float value, int64_t n) {
  if (device.is_cuda()) {
#ifdef AR1_WITH_CUDA
    cuda::fill(y, value, n);
    return;
#else
    no_cuda("fill");
#endif
  }
  cpu::fill(y, value, n);
}

void scale(Device device, float* y, const float* x, float alpha, int64_t n) {
  if (device.is_cuda()) no_cuda("scale");
  cpu::scale(y, x, alpha, n);
}

// ---------------------------------------------------------------- reductions

void sum_all(Device device, float* y, const float* x, int64_t n) {
  if (device.is_cuda()) no_cuda("sum");
  cpu::sum_all(y, x, n);
}

void channel_sum(Device device, float* y, const float* x, const ChannelSumDesc& d) {
  if (device.is_cuda()) no_cuda("channel sum");
  cpu::channel_sum(y, x, d);
}

// ---------------------------------------------------------------- pooling, matmul, loss

void avg_pool2d_forward(Device device, float* y, const float* x, const AvgPoolDesc& d) {
  if (device.is_cuda()) no_cuda("avg_pool2d");
  cpu::avg_pool2d_forward(y, x, d);
}

void avg_pool2d_backward(Device device, float* dx, const float* dy, const AvgPoolDesc& d) {
  if (device.is_cuda()) no_cuda("avg_pool2d backward");
  cpu::avg_pool2d_backward(dx, dy, d);
}

void matmul(Device device, float* c, const float* a, const float* b, const MatmulDesc& d) {
  if (device.is_cuda()) no_cuda("matmul");
  cpu::matmul(c, a, b, d);
}

int64_t cross_entropy_forward(Device device, float* loss, float* log_probs, const float* logits,
                              const int64_t* labels, const CrossEntropyDesc& d) {
  if (device.is_cuda()) no_cuda("cross_entropy");
  return cpu::cross_entropy_forward(loss, log_probs, logits, labels, d);
}

void cross_entropy_backward(Device device, float* dlogits, const float* log_probs,
                            const int64_t* labels, float grad_loss, const CrossEntropyDesc& d) {
  if (device.is_cuda()) no_cuda("cross_entropy backward");
  cpu::cross_entropy_backward(dlogits, log_probs, labels, grad_loss, d);
}

}  // namespace ar1::kernels

// ---------------------------------------------------------------- batch renormalization
// (appended with its own include so the sections above stay untouched)

#include "kernels/batch_renorm.h"

namespace ar1::kernels {

void batch_renorm_train_forward(Device device, float* y, const BatchReNormSaved& saved,
                                float* running_mean, float* running_std, const float* x,
                                const float* gamma, const float* beta,
                                const BatchReNormDesc& desc) {
  if (device.is_cuda()) no_cuda("batch_renorm");
  cpu::batch_renorm_train_forward(y, saved, running_mean, running_std, x, gamma, beta, desc);
}

void batch_renorm_eval_forward(Device device, float* y, const float* x, const float* gamma,
                               const float* beta, const float* running_mean,
                               const float* running_std, const BatchReNormDesc& desc) {
  if (device.is_cuda()) no_cuda("batch_renorm");
  cpu::batch_renorm_eval_forward(y, x, gamma, beta, running_mean, running_std, desc);
}

void batch_renorm_backward(Device device, float* dx, float* dgamma, float* dbeta, const float* dy,
                           const float* x, const float* y, const float* gamma, const float* mean,
                           const float* inv_std, const float* r, const float* d,
                           const BatchReNormDesc& desc) {
  if (device.is_cuda()) no_cuda("batch_renorm backward");
  cpu::batch_renorm_backward(dx, dgamma, dbeta, dy, x, y, gamma, mean, inv_std, r, d, desc);
}

}  // namespace ar1::kernels
