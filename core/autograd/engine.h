#pragma once
#include "core/tensor.h"

namespace ar1::autograd {

// Runs reverse-mode differentiation from `root` (a scalar unless `grad_root` is given):
// sorts the graph iteratively (no recursion, so deep nets cannot overflow the stack), calls
// every node once in reverse topological order with the sum of its incoming gradients,
// accumulates into the leaves' .grad, and frees the graph unless `retain_graph`.
void run_backward(const Tensor& root, const Tensor& grad_root, bool retain_graph);

}  // namespace ar1::autograd
