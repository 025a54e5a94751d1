#include "core/autograd/node.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "nn/functional.h"
#include "nn/functional/output.h"

namespace ar1::nn {

namespace {

using kernels::BinaryDesc;
using kernels::BinaryOp;
using kernels::Broadcast;

const char* op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return "add";
    case BinaryOp::sub: return "sub";
    case BinaryOp::mul: return "mul";
  }
  return "?";
}

// How b broadcasts against a: same shape, one value, or one value per channel (dim 1).
BinaryDesc describe_broadcast(const Tensor& a, const Tensor& b, BinaryOp op) {
  BinaryDesc d;
  d.op = op;
  d.inner = a.numel();
  if (b.shape() == a.shape()) return d;
  if (b.numel() == 1) {
    d.b = Broadcast::scalar;
    return d;
  }
  if (a.dim() >= 2 && b.numel() == a.size(1)) {
    const int64_t c = a.size(1);
    // [C], [1, C, 1, ..., 1] or [C, 1, ..., 1]: checked in place (building the wanted shape
    // as a vector trips GCC 12's -Wfree-nonheap-object, a false positive).
    const Shape& s = b.shape();
    const auto is_channels_at = [&](size_t axis) {
      for (size_t k = 0; k < s.size(); ++k) {
        if (s[k] != (k == axis ? c : 1)) return false;
      }
      return true;
    };
    const bool ok = (s.size() == 1 && s[0] == c) ||
                    (static_cast<int64_t>(s.size()) == a.dim() && is_channels_at(1)) ||
                    (static_cast<int64_t>(s.size()) == a.dim() - 1 && is_channels_at(0));
    if (ok) {
      d.b = Broadcast::per_channel;
      d.outer = a.size(0);
      d.channels = c;
      d.inner = a.numel() / (d.outer * c);
      return d;
    }
  }
  AR1_FAIL("[", op_name(op), "] cannot broadcast ", b.describe(), " against ", a.describe(),
           ": the second operand must have the first's shape, one element, or one value per "
           "channel ([C], [1, C, 1, 1] or [C, 1, 1])");
}

// The gradient of b: g (already multiplied for mul, negated for sub) summed to b's shape.
Tensor reduce_to(const Tensor& g, const BinaryDesc& d, const Shape& b_shape) {
  Tensor gb = detail::empty_on(b_shape, g.device());
  switch (d.b) {
    case Broadcast::none: return g;
    case Broadcast::scalar:
      kernels::sum_all(g.device(), detail::f32(gb), detail::f32(g), g.numel());
      break;
    case Broadcast::per_channel:
      kernels::channel_sum(g.device(), detail::f32(gb), detail::f32(g),
                           {d.outer, d.channels, d.inner});
      break;
  }
  return gb;
}

class BinaryBackward final : public autograd::Node {
 public:
  // mul saves both operands (each one's gradient needs the other); add and sub save nothing.
  BinaryBackward(const BinaryDesc& d, Tensor a, Tensor b)
      : desc_(d), a_(std::move(a)), b_(std::move(b)) {}
  std::string name() const override { return std::string(op_name(desc_.op)) + "Backward"; }

  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Tensor g = grad_output.contiguous();
    const Device dev = g.device();
    Tensor ga, gb;
    if (next[0]) {  // d(a op b)/da: 1, 1, b
      if (desc_.op == BinaryOp::mul) {
        ga = detail::empty_on(g.shape(), dev);
        kernels::binary_forward(dev, detail::f32(ga), detail::f32(g), detail::f32(b_), desc_);
      } else {
        ga = g;
      }
    }
    if (next[1]) {  // d(a op b)/db: 1, -1, a; then summed over the broadcast dims
      Tensor full = g;
      if (desc_.op != BinaryOp::add) {
        full = detail::empty_on(g.shape(), dev);
        if (desc_.op == BinaryOp::sub) {
          kernels::scale(dev, detail::f32(full), detail::f32(g), -1.f, g.numel());
        } else {
          BinaryDesc same{1, 1, g.numel(), Broadcast::none, BinaryOp::mul};
          kernels::binary_forward(dev, detail::f32(full), detail::f32(g), detail::f32(a_),
                                  same);
        }
      }
      gb = reduce_to(full, desc_, input_shapes[1]);
    }
    return {ga, gb};
  }
  void release() override {
    a_ = {};
    b_ = {};
  }

 private:
  BinaryDesc desc_;
  Tensor a_, b_;
};

Tensor binary(const Tensor& a_in, const Tensor& b_in, BinaryOp op, const Tensor& out) {
  const char* name = op_name(op);
  const Tensor a = detail::dense_f32(a_in, name, "first operand");
  const Tensor b = detail::dense_f32(b_in, name, "second operand");
  check_same_device(a, b, name);
  const BinaryDesc d = describe_broadcast(a, b, op);
  const bool grad = autograd::needs_graph({&a, &b});
  Tensor y = detail::make_output(out, a.shape(), a.device(), grad, name);
  kernels::binary_forward(a.device(), detail::f32(y), detail::f32(a), detail::f32(b), d);
  if (grad) {
    const bool is_mul = op == BinaryOp::mul;
    auto node = std::make_shared<BinaryBackward>(d, is_mul ? a.detach() : Tensor(),
                                                 is_mul ? b.detach() : Tensor());
    autograd::record(node, {&a, &b}, y);
  }
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, const Tensor& out) {
  return binary(a, b, BinaryOp::add, out);
}
Tensor sub(const Tensor& a, const Tensor& b, const Tensor& out) {
  return binary(a, b, BinaryOp::sub, out);
}
Tensor mul(const Tensor& a, const Tensor& b, const Tensor& out) {
  return binary(a, b, BinaryOp::mul, out);
}

}  // namespace ar1::nn
