// CUDA graphs (kernels/device_runtime.h): the device work of a step recorded once and replayed
// with one launch. Capture runs in relaxed mode on the device's compute stream; the caching
// allocator serves the capture from a pool private to the graph, and the context refuses host
// copies and synchronisation meanwhile, so a body that needs them fails cleanly and runs eagerly.
#include <string>

#include "kernels/cuda/context.h"
#include "kernels/cuda/status.h"
#include "kernels/device_runtime.h"

namespace ar1::kernels::cuda {

namespace {

class CudaGraph final : public DeviceGraph {
 public:
  CudaGraph(Context& ctx, cudaGraph_t graph, cudaGraphExec_t exec, CachingAllocator::PoolId pool)
      : ctx_(ctx), graph_(graph), exec_(exec), pool_(pool) {}
  ~CudaGraph() override {
    // A launch still queued completes first (the driver keeps the executable until then); the
    // pool's blocks go back in stream order or through cudaFree, which waits.
    cudaGraphExecDestroy(exec_);
    cudaGraphDestroy(graph_);
    ctx_.allocator().release_graph_pool(pool_);
  }
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Uploads are not joined here: the step's own batch was joined when it was handed out, and
  // the next one's must keep running beside this replay.
  void replay() override { check(cudaGraphLaunch(exec_, ctx_.stream()), "cudaGraphLaunch"); }

  size_t nodes() const override {
    size_t n = 0;
    if (cudaGraphGetNodes(graph_, nullptr, &n) != cudaSuccess) cudaGetLastError();
    return n;
  }

 private:
  Context& ctx_;
  cudaGraph_t graph_;
  cudaGraphExec_t exec_;
  CachingAllocator::PoolId pool_;
};

}  // namespace

std::unique_ptr<DeviceGraph> capture_graph(Device device, const std::function<void()>& body) {
  Context& ctx = Context::get(device);
  CachingAllocator& allocator = ctx.allocator();
  const CachingAllocator::PoolId pool = allocator.begin_graph_pool();
  // Relaxed: the pool's cudaMalloc (not a stream operation) stays legal while capturing.
  cudaError_t err = cudaStreamBeginCapture(ctx.stream(), cudaStreamCaptureModeRelaxed);
  if (err != cudaSuccess) {
    allocator.end_graph_pool();
    allocator.release_graph_pool(pool);
    check(err, "cudaStreamBeginCapture");
  }
  ctx.set_capturing(true);
  auto end_capture = [&]() -> cudaGraph_t {
    cudaGraph_t graph = nullptr;
    const cudaError_t end = cudaStreamEndCapture(ctx.stream(), &graph);
    ctx.set_capturing(false);
    allocator.end_graph_pool();
    if (end != cudaSuccess) {
      cudaGetLastError();
      if (graph != nullptr) cudaGraphDestroy(graph);
      return nullptr;
    }
    return graph;
  };
  try {
    body();
  } catch (...) {
    if (cudaGraph_t graph = end_capture()) cudaGraphDestroy(graph);
    allocator.release_graph_pool(pool);
    throw;
  }
  cudaGraph_t graph = end_capture();
  if (graph == nullptr) {
    allocator.release_graph_pool(pool);
    throw GraphCaptureUnsupported("[cuda] the CUDA graph capture was invalidated (an operation "
                                  "outside the stream joined it); this step runs eagerly");
  }
  cudaGraphExec_t exec = nullptr;
  err = cudaGraphInstantiate(&exec, graph, 0);
  if (err != cudaSuccess) {
    cudaGetLastError();
    cudaGraphDestroy(graph);
    allocator.release_graph_pool(pool);
    throw GraphCaptureUnsupported(std::string("[cuda] cudaGraphInstantiate failed (") +
                                  cudaGetErrorName(err) + "); this step runs eagerly");
  }
  return std::make_unique<CudaGraph>(ctx, graph, exec, pool);
}

}  // namespace ar1::kernels::cuda
