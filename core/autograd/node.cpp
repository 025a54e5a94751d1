#include "core/autograd/node.h"

#include "core/grad_mode.h"

namespace ar1::autograd {

bool needs_graph(const std::vector<const Tensor*>& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs) {
    if (t != nullptr && t->defined() && t->requires_grad()) return true;
  }
  return false;
}

void record(const std::shared_ptr<Node>& node, const std::vector<const Tensor*>& inputs,
            Tensor& output) {
  node->next.clear();
  node->input_shapes.clear();
  for (const Tensor* t : inputs) {
    std::shared_ptr<Node> edge;
    if (t != nullptr && t->defined() && t->requires_grad()) {
      edge = t->is_leaf() ? std::make_shared<AccumulateGrad>(t->impl_ptr()) : t->grad_fn();
    }
    node->next.push_back(std::move(edge));
    node->input_shapes.push_back(t != nullptr && t->defined() ? t->shape() : Shape{});
  }
  output.set_grad_fn(node);
}

Tensor add_gradients(const Tensor& a, const Tensor& b) {
  AR1_CHECK(a.shape() == b.shape(), "[autograd] cannot sum gradients ", a.describe(), " and ",
            b.describe());
  AR1_CHECK(a.device().is_cpu() && b.device().is_cpu(),
            "[autograd] summing gradients on ", a.device().str(),
            " is not implemented yet: run training on the cpu");
  Tensor ac = a.contiguous();
  Tensor bc = b.contiguous();
  Tensor out = Tensor::empty(a.shape());
  const float* pa = ac.data<float>();
  const float* pb = bc.data<float>();
  float* po = out.data<float>();
  for (int64_t i = 0; i < out.numel(); ++i) po[i] = pa[i] + pb[i];
  return out;
}

}  // namespace ar1::autograd
