// The CUDA side of kernels/device_runtime.h other than graphs (kernels/cuda/graph.cpp): memory
// figures, page-locked host storage, uploads on the copy stream, the determinism switch and
// the deferred errors of captured ops.
#include <string>

#include "kernels/cuda/context.h"
#include "kernels/cuda/status.h"
#include "kernels/device_runtime.h"

namespace ar1::kernels::cuda {

DeviceMemory device_memory(Device device) {
  Context::get(device);  // checks the device and makes it current
  DeviceMemory m;
  check(cudaMemGetInfo(&m.free_bytes, &m.total_bytes), "cudaMemGetInfo");
  return m;
}

std::shared_ptr<Storage> pinned_host_storage(size_t bytes, Device gpu) {
  Context& ctx = Context::get(gpu);
  void* p = nullptr;
  const cudaError_t err = cudaMallocHost(&p, bytes > 0 ? bytes : 1);
  if (err != cudaSuccess) {
    cudaGetLastError();
    AR1_FAIL("[pinned] could not page-lock ", bytes >> 20, " MiB of host memory for ", gpu.str(),
             " (", cudaGetErrorName(err), "); lower the replay memory (--rm-size) or raise the "
             "locked-memory limit (ulimit -l)");
  }
  // Copies from it may still be queued when the last tensor lets go: wait for them first.
  return Storage::wrap(p, bytes, Device::cpu(), [&ctx](void* q) {
    ctx.wait_idle();
    if (cudaFreeHost(q) != cudaSuccess) cudaGetLastError();
  });
}

void upload_async(void* dst, Device device, const void* src, size_t bytes) {
  Context::get(device).upload(dst, src, bytes);
}

void join_uploads(Device device) { Context::get(device).join_uploads(); }

void set_deterministic(bool on) { Context::set_deterministic(on); }
bool deterministic() { return Context::deterministic(); }

void* compute_stream(Device device) { return Context::get(device).stream(); }

void check_deferred_errors(Device device) {
  Context& ctx = Context::get(device);
  ctx.forbid_in_capture("reading deferred errors");
  unsigned long long first_bad = ~0ull;
  check(cudaMemcpyAsync(&first_bad, ctx.deferred_bad_label(), sizeof first_bad,
                        cudaMemcpyDeviceToHost, ctx.stream()),
        "cudaMemcpyAsync (deferred errors)");
  check(cudaStreamSynchronize(ctx.stream()), "cudaStreamSynchronize");
  if (first_bad == ~0ull) return;
  check(cudaMemsetAsync(ctx.deferred_bad_label(), 0xff, sizeof first_bad, ctx.stream()),
        "cudaMemsetAsync");
  AR1_FAIL("[cross_entropy] row ", first_bad, " of a minibatch run by a CUDA graph has a label "
           "outside [0, classes); check the dataset's labels against the model's classes");
}

}  // namespace ar1::kernels::cuda
