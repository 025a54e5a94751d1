#include "core/autograd/engine.h"

#include <unordered_map>
#include <unordered_set>

#include "core/autograd/node.h"
#include "core/grad_mode.h"

namespace ar1::autograd {

namespace {

// Every node reachable from `root`, and how many edges point at each.
std::unordered_map<Node*, int> count_dependencies(Node* root) {
  std::unordered_map<Node*, int> deps;
  std::unordered_set<Node*> seen{root};
  std::vector<Node*> stack{root};
  deps[root] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& child : n->next) {
      if (!child) continue;
      ++deps[child.get()];
      if (seen.insert(child.get()).second) stack.push_back(child.get());
    }
  }
  return deps;
}

void check_gradient_shape(const Node& node, size_t input, const Tensor& g) {
  AR1_CHECK(g.shape() == node.input_shapes[input], "[autograd] ", node.name(),
            " returned a gradient of shape ", shape_str(g.shape()), " for input ", input,
            " of shape ", shape_str(node.input_shapes[input]), " (a bug in that op)");
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_root, bool retain_graph) {
  check_defined(root, "backward", "root");
  Tensor seed = grad_root;
  if (!seed.defined()) {
    AR1_CHECK(root.numel() == 1, "[backward] backward() without a gradient needs a scalar, got ",
              root.describe(), "; pass a gradient of the same shape or reduce first (sum/mean)");
    seed = Tensor::full(root.shape(), 1.f, root.device());
  }
  seed = seed.to(root.device());  // a host gradient for a GPU root, say
  AR1_CHECK(seed.shape() == root.shape(), "[backward] gradient ", seed.describe(),
            " does not match the root ", root.describe());
  AR1_CHECK(root.requires_grad(), "[backward] ", root.describe(),
            " does not require a gradient and has no grad_fn: nothing to differentiate "
            "(set requires_grad on a leaf, and do not run the forward under NoGradGuard)");

  NoGradGuard no_grad;  // backward computations record nothing (no double backward)
  if (root.is_leaf()) {
    AccumulateGrad(root.impl_ptr()).backward(seed);
    return;
  }
  Node* start = root.grad_fn().get();
  AR1_CHECK(!start->released, "[backward] the graph behind ", root.describe(),
            " was already freed by an earlier backward(); pass retain_graph = true to the "
            "first backward() to go through it twice");

  // Kahn's algorithm: a node runs once every edge into it has delivered (or not) its part.
  auto deps = count_dependencies(start);
  std::unordered_map<Node*, Tensor> pending{{start, seed}};
  std::vector<Node*> ready{start};
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    Tensor grad_out;
    if (auto it = pending.find(node); it != pending.end()) {
      grad_out = std::move(it->second);
      pending.erase(it);
    }
    std::vector<Tensor> grads;
    if (grad_out.defined()) {  // a node no gradient reached has nothing to pass on
      AR1_CHECK(!node->released, "[backward] ", node->name(),
                " was freed by an earlier backward(); use retain_graph = true");
      grads = node->backward(grad_out);
      // Its saved tensors are not needed again: free them now rather than after the whole
      // pass, so activations go as the backward walks down (a lower peak).
      if (!retain_graph) node->release();
      AR1_CHECK(grads.size() == node->next.size(), "[autograd] ", node->name(), " returned ",
                grads.size(), " gradients for ", node->next.size(),
                " inputs (a bug in that op)");
    }
    for (size_t i = 0; i < node->next.size(); ++i) {
      const auto& child = node->next[i];
      if (!child) continue;
      if (!grads.empty() && grads[i].defined()) {
        check_gradient_shape(*node, i, grads[i]);
        Tensor& acc = pending[child.get()];
        acc = acc.defined() ? add_gradients(acc, grads[i]) : grads[i];
      }
      if (--deps[child.get()] == 0) ready.push_back(child.get());
    }
  }
  if (!retain_graph) {
    // Free saved tensors and edges. Edges own the nodes below, so hold them until every
    // node has been released.
    std::vector<std::shared_ptr<Node>> keep_alive;
    for (auto& entry : deps) {
      Node* node = entry.first;
      node->release();
      node->released = true;
      for (auto& child : node->next) keep_alive.push_back(std::move(child));
      node->next.clear();
    }
  }
}

std::vector<Tensor> AccumulateGrad::backward(const Tensor& grad_output) {
  if (!leaf_->grad) {
    leaf_->grad = grad_output.clone().impl_ptr();  // own copy: the incoming one may alias
  } else {
    leaf_->grad = add_gradients(Tensor(leaf_->grad), grad_output).impl_ptr();
  }
  return {};
}

}  // namespace ar1::autograd
