#pragma once
// A recorded op in the autograd graph. To add a differentiable op: derive from Node, save in
// the constructor exactly what backward needs, return one gradient per input from backward()
// (undefined where that input needs none), drop saved state in release(), and set the result's
// grad_fn with autograd::record(). The engine (engine.h) does the rest.
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ar1::autograd {

class Node {
 public:
  virtual ~Node() = default;
  virtual std::string name() const = 0;
  // dL/d(input i) for every input, given dL/d(output). Runs with grad mode off.
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;
  // Frees saved tensors once the graph has been used (called by the engine).
  virtual void release() {}

  // One edge per input: the node that produced it (or its gradient accumulator for a leaf),
  // null when that input needs no gradient.
  std::vector<std::shared_ptr<Node>> next;
  // Shape of each input, checked against what backward returns.
  std::vector<Shape> input_shapes;
  bool released = false;
};

// Leaf sink: adds the incoming gradient to the leaf's .grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  std::string name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  void release() override {}  // the leaf outlives the graph

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

// True when grad mode is on and any input requires a gradient: only then is a node recorded.
bool needs_graph(const std::vector<const Tensor*>& inputs);

// Wires `node` to `inputs` (edges, shapes) and makes it `output`'s grad_fn. Call only when
// needs_graph() said so.
void record(const std::shared_ptr<Node>& node, const std::vector<const Tensor*>& inputs,
            Tensor& output);

// a + b into a fresh tensor (used to sum the gradients that reach one node).
Tensor add_gradients(const Tensor& a, const Tensor& b);

}  // namespace ar1::autograd
