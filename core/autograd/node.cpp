#include "core/autograd/node.h"

#include "core/device_backend.h"
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
  check_same_device(a, b, "autograd");
  Tensor ac = a.contiguous();
  Tensor bc = b.contiguous();
  Tensor out = Tensor::empty(a.shape(), DType::f32, a.device());
  if (!a.device().is_cpu()) {
    device_backend(a.device()).add_f32(a.device(), static_cast<float*>(out.raw_data()),
                                       static_cast<const float*>(ac.raw_data()),
                                       static_cast<const float*>(bc.raw_data()), out.numel());
    return out;
  }
  const float* pa = ac.data<float>();
  const float* pb = bc.data<float>();
  float* po = out.data<float>();
  for (int64_t i = 0; i < out.numel(); ++i) po[i] = pa[i] + pb[i];
  return out;
}

}  // namespace ar1::autograd
