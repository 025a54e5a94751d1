#pragma once
// Steps run as replayed CUDA graphs (--cuda-graphs). A step is a function from input tensors to
// output tensors whose device work is the same for the same input shapes. The first time a key
// (the step's name and its inputs' shapes) is seen the step runs eagerly, which creates lazy
// state (momentum buffers, convolution plans, cached blocks); the second time it is captured into
// a graph whose inputs are copies made for it; from then on the inputs are copied into those and
// the graph is replayed: one launch instead of one per kernel, and no host work per op. A step
// the graph cannot hold (a host copy inside it) runs eagerly from then on, with one message.
//
// Whatever the step reads or writes across calls (parameters, gradients, optimiser and
// normalisation state) must be updated in place, and must not be replaced while graphs exist:
// clear() drops them (a new experience, a new optimiser, loaded weights). Tensors the step
// creates and leaves behind on the host (a parameter's .grad(), SI's snapshot) are the last
// eager run's or the capture's: a replay writes its own copies, so read a replay's results
// from its outputs, not from those.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "kernels/device_runtime.h"

namespace ar1::strategy {

class GraphSteps {
 public:
  using Body = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

  explicit GraphSteps(Device device) : device_(device) {}

  // Runs `body(inputs)` eagerly or as a graph replay (see above); `use_graph` false always runs
  // it eagerly. Undefined inputs are passed through as they are. The outputs of a replay are
  // the tensors the capture returned, holding this call's values.
  std::vector<Tensor> run(const std::string& name, const std::vector<Tensor>& inputs,
                          const Body& body, bool use_graph);

  void clear();
  // Graphs captured and replays run since construction (for tests and benchmarks).
  int64_t captures() const { return captures_; }
  int64_t replays() const { return replays_; }
  int64_t graphs() const { return static_cast<int64_t>(entries_.size()); }

 private:
  struct Entry {
    int64_t eager_runs = 0;
    bool unsupported = false;
    std::unique_ptr<kernels::DeviceGraph> graph;
    std::vector<Tensor> inputs, outputs;
  };
  Device device_;
  std::map<std::string, Entry> entries_;
  int64_t captures_ = 0, replays_ = 0;
  bool warned_ = false;
};

}  // namespace ar1::strategy
