// The CUDA backend of a build without one (MLX's no_gpu pattern): every cuda:: entry of the
// dispatch exists and fails with the op's name and the fix, so kernels/dispatch.cpp needs no
// #ifdef. Compiled instead of kernels/cuda/ where CMake found no CUDA toolkit or cuDNN.
#include <string>

#include "core/device_backend.h"
#include "core/error.h"
#include "kernels/batch_renorm.h"
#include "kernels/conv2d.h"
#include "kernels/cross_entropy.h"
#include "kernels/cwr_star.h"
#include "kernels/dequantize.h"
#include "kernels/device.h"
#include "kernels/device_runtime.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/pooling.h"
#include "kernels/reduce.h"
#include "kernels/sgd.h"
#include "kernels/synaptic_intelligence.h"

namespace ar1::kernels::cuda {

namespace {

[[noreturn]] void no_cuda(const std::string& op) {
  AR1_FAIL("[", op, "] this build has no CUDA backend; rebuild with -DAR1_CUDA=ON on a machine "
           "with the CUDA toolkit and cuDNN 9, or run on the cpu (--device cpu)");
}

class NoCudaBackend final : public DeviceBackend {
 public:
  Allocator& allocator(Device device) override { no_cuda("allocate on " + device.str()); }
  void copy_bytes(void*, Device, const void*, Device, size_t) override { no_cuda("copy"); }
  void set_zero(Device, void*, size_t) override { no_cuda("zeros"); }
  void fill_f32(Device, float*, float, int64_t) override { no_cuda("fill"); }
  void gather_strided(Device, void*, const void*, const StridedView&, size_t) override {
    no_cuda("contiguous");
  }
  void convert(Device, void*, DType, const void*, DType, int64_t) override { no_cuda("to"); }
  void add_f32(Device, float*, const float*, const float*, int64_t) override { no_cuda("add"); }
  void synchronize(Device) override { no_cuda("synchronize"); }
};

}  // namespace

bool built() { return false; }
int device_count() { return 0; }
std::vector<std::string> device_names() { return {}; }
std::string versions() { return {}; }
void require_device(Device device) { no_cuda(device.str()); }
ActivationLayout preferred_activation_layout() { return ActivationLayout::plain; }
void register_backend() {
  static NoCudaBackend backend;
  register_device_backend(DeviceType::cuda, &backend);
}

DeviceMemory device_memory(Device device) { no_cuda("memory of " + device.str()); }
std::shared_ptr<Storage> pinned_host_storage(size_t, Device gpu) {
  no_cuda("pinned memory for " + gpu.str());
}
void upload_async(void*, Device device, const void*, size_t) { no_cuda("upload to " + device.str()); }
void join_uploads(Device device) { no_cuda("upload to " + device.str()); }
// Only remembered: the CPU is always deterministic.
namespace {
bool deterministic_mode = false;
}  // namespace
void set_deterministic(bool on) { deterministic_mode = on; }
bool deterministic() { return deterministic_mode; }
std::unique_ptr<DeviceGraph> capture_graph(Device device, const std::function<void()>&) {
  no_cuda("graph capture on " + device.str());
}
void check_deferred_errors(Device device) { no_cuda("deferred errors of " + device.str()); }
void* compute_stream(Device device) { no_cuda("the stream of " + device.str()); }

void conv2d_forward(Device, float*, const float*, const float*, const ConvDesc&, const float*) {
  no_cuda("conv2d");
}
void conv2d_backward_data(Device, float*, const float*, const float*, const ConvDesc&) {
  no_cuda("conv2d backward");
}
void conv2d_backward_weights(Device, float*, const float*, const float*, const ConvDesc&) {
  no_cuda("conv2d backward");
}
void binary_forward(Device, float*, const float*, const float*, const BinaryDesc&) {
  no_cuda("binary op");
}
void relu_forward(Device, float*, const float*, int64_t) { no_cuda("relu"); }
void relu_backward(Device, float*, const float*, const float*, int64_t) {
  no_cuda("relu backward");
}
void fill(Device, float*, float, int64_t) { no_cuda("fill"); }
void scale(Device, float*, const float*, float, int64_t) { no_cuda("scale"); }
void sum_all(Device, float*, const float*, int64_t) { no_cuda("sum"); }
void channel_sum(Device, float*, const float*, const ChannelSumDesc&) { no_cuda("channel sum"); }
void avg_pool2d_forward(Device, float*, const float*, const AvgPoolDesc&) {
  no_cuda("avg_pool2d");
}
void avg_pool2d_backward(Device, float*, const float*, const AvgPoolDesc&) {
  no_cuda("avg_pool2d backward");
}
void matmul(Device, float*, const float*, const float*, const MatmulDesc&) { no_cuda("matmul"); }
int64_t cross_entropy_forward(Device, float*, float*, const float*, const int64_t*,
                              const CrossEntropyDesc&) {
  no_cuda("cross_entropy");
}
void cross_entropy_backward(Device, float*, const float*, const int64_t*, const float*,
                            const CrossEntropyDesc&) {
  no_cuda("cross_entropy backward");
}
void batch_renorm_train_forward(Device, float*, const BatchReNormSaved&, float*, float*,
                                const float*, const float*, const float*,
                                const BatchReNormDesc&) {
  no_cuda("batch_renorm");
}
void batch_renorm_eval_forward(Device, float*, const float*, const float*, const float*,
                               const float*, const float*, const BatchReNormDesc&) {
  no_cuda("batch_renorm");
}
void batch_renorm_backward(Device, float*, float*, float*, const float*, const float*,
                           const float*, const float*, const float*, const float*, const float*,
                           const float*, const BatchReNormDesc&) {
  no_cuda("batch_renorm backward");
}
void batch_renorm_eval_affine(Device, float*, float*, const float*, const float*, const float*,
                              const float*, int64_t) {
  no_cuda("batch_renorm_eval_affine");
}
void batch_renorm_folded_grads(Device, float*, float*, const float*, const float*, const float*,
                               const float*, const float*, const float*, const FoldedGradDesc&) {
  no_cuda("conv2d_batch_renorm_eval backward");
}
void sgd_update(Device, float*, float*, const float*, const SgdDesc&) { no_cuda("sgd"); }
void si_accumulate(Device, float*, const float*, const float*, const float*, int64_t) {
  no_cuda("synaptic intelligence");
}
void si_consolidate(Device, float*, float*, const float*, const float*, const float*,
                    const SiConsolidateDesc&) {
  no_cuda("synaptic intelligence");
}
void cwr_consolidate(Device, float*, const float*, const int64_t*, const double*,
                     const CwrDesc&) {
  no_cuda("cwr*");
}
bool any_nonfinite(Device, const float*, int64_t) { no_cuda("non-finite check"); }
void dequantize_rows(Device, float*, const void*, const float*, const float*,
                     const DequantizeDesc&) {
  no_cuda("replay dequantize");
}

}  // namespace ar1::kernels::cuda
