#pragma once
// Fused log-softmax + cross-entropy, mean over the batch: logits [n, classes], labels [n] i64.
// The forward saves log-probabilities [n, classes] for the backward:
//   dlogits = (exp(log_probs) - onehot(labels)) * grad_loss / n.
// grad_loss points to one f32 on the kernel's device, so a GPU backward needs no host read.
#include <cstdint>

#include "core/device.h"

namespace ar1::kernels {

struct CrossEntropyDesc {
  int64_t n = 0, classes = 0;
};

// Returns the index of the first label outside [0, classes), or -1 when all are valid (the
// caller turns it into an error; kernels do not throw).
int64_t cross_entropy_forward(Device device, float* loss, float* log_probs, const float* logits,
                              const int64_t* labels, const CrossEntropyDesc& d);
void cross_entropy_backward(Device device, float* dlogits, const float* log_probs,
                            const int64_t* labels, const float* grad_loss,
                            const CrossEntropyDesc& d);

namespace cpu {
int64_t cross_entropy_forward(float* loss, float* log_probs, const float* logits,
                              const int64_t* labels, const CrossEntropyDesc& d);
void cross_entropy_backward(float* dlogits, const float* log_probs, const int64_t* labels,
                            const float* grad_loss, const CrossEntropyDesc& d);
}  // namespace cpu

namespace cuda {
int64_t cross_entropy_forward(Device device, float* loss, float* log_probs, const float* logits,
                              const int64_t* labels, const CrossEntropyDesc& d);
void cross_entropy_backward(Device device, float* dlogits, const float* log_probs,
                            const int64_t* labels, const float* grad_loss,
                            const CrossEntropyDesc& d);
}  // namespace cuda

}  // namespace ar1::kernels
