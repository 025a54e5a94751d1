#pragma once
// Device services above single ops, for strategies and tools: memory figures, page-locked host
// memory, uploads that overlap queued kernels, the determinism switch, and CUDA graphs. Every
// function is defined by the CUDA backend or, in a build without one, by kernels/no_cuda/
// (where device_memory reports nothing and the rest fail naming the fix).
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/device.h"
#include "core/error.h"
#include "core/storage.h"
#include "core/tensor.h"

namespace ar1::kernels {

struct DeviceMemory {
  size_t free_bytes = 0;
  size_t total_bytes = 0;
};
// Free and total memory of a CUDA device as the driver reports them ({0, 0} for the CPU).
DeviceMemory device_memory(Device device);

// A CPU tensor in page-locked memory registered with `gpu`: copies from it to the GPU are
// direct DMA, without the staging copy. Whoever writes it while copies from it may still be
// queued must synchronize(gpu) first.
Tensor pinned_host_tensor(const Shape& shape, DType dtype, Device gpu);

// Host -> device copy on `device`'s copy stream: it overlaps the kernels already queued on the
// compute stream, and returns once `src` may be reused. Work queued after join_uploads(device)
// sees the data; work queued before it must not touch `dst`.
void upload_async(void* dst, Device device, const void* src, size_t bytes);
void join_uploads(Device device);
// A CPU tensor's copy on `device` through upload_async (call join_uploads before using it).
Tensor upload_tensor_async(const Tensor& host, Device device);

// Waits until every queued operation on `device` has finished (nothing for the CPU).
void synchronize(Device device);

// Deterministic mode (--deterministic): cuDNN may only use algorithms whose results do not
// depend on scheduling. Our own kernels always reduce in a fixed order; the CPU is always
// deterministic. Off by default; plans chosen before a change are dropped.
void set_deterministic(bool on);
bool deterministic();

// A captured sequence of device work, replayed with one launch (a CUDA graph). Its buffers
// (every tensor allocated while it was captured) keep their addresses for its lifetime, so a
// replay recomputes the captured outputs in place from the current contents of its inputs.
class DeviceGraph {
 public:
  virtual ~DeviceGraph() = default;
  virtual void replay() = 0;
  // Kernel and copy nodes in the graph.
  virtual size_t nodes() const = 0;
};

// Thrown out of capture_graph when `body` did something a graph cannot hold (a copy to or from
// the host, a synchronisation): the caller runs that work eagerly instead.
struct GraphCaptureUnsupported : Error {
  using Error::Error;
};

// Runs `body` once, recording instead of executing the device work it queues on `device`,
// and returns the graph. The work does not run: replay() runs it. While `body` runs, host <->
// device copies and synchronisation throw GraphCaptureUnsupported (after ending the capture).
std::unique_ptr<DeviceGraph> capture_graph(Device device, const std::function<void()>& body);

// The device's compute stream as a cudaStream_t, for tools that time or launch their own work
// in order with ar1's (benchmarks).
void* compute_stream(Device device);

// Errors a captured op could not report when it ran (a label out of range in a replayed
// cross-entropy): throws naming it, and clears it. Waits for the device.
void check_deferred_errors(Device device);

namespace cuda {
// The CUDA backend's side of the above (kernels/cuda/runtime.cpp, graph.cpp), or the stubs of
// kernels/no_cuda/; kernels/device_runtime.cpp picks by device.
DeviceMemory device_memory(Device device);
std::shared_ptr<Storage> pinned_host_storage(size_t bytes, Device gpu);
void upload_async(void* dst, Device device, const void* src, size_t bytes);
void join_uploads(Device device);
void set_deterministic(bool on);
bool deterministic();
std::unique_ptr<DeviceGraph> capture_graph(Device device, const std::function<void()>& body);
void check_deferred_errors(Device device);
void* compute_stream(Device device);
}  // namespace cuda

}  // namespace ar1::kernels
