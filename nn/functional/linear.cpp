#include "core/autograd/node.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/reduce.h"
#include "nn/functional.h"
#include "nn/functional/output.h"

namespace ar1::nn {

namespace {

// y [N, out] = x [N, in] W^T [in, out] (+ b).
class LinearBackward final : public autograd::Node {
 public:
  // x for the weight gradient, w for the input gradient.
  LinearBackward(Tensor x, Tensor w) : x_(std::move(x)), w_(std::move(w)) {}
  std::string name() const override { return "LinearBackward"; }

  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Tensor g = grad_output.contiguous();
    const Device dev = g.device();
    const int64_t n = x_.size(0), in = x_.size(1), out = w_.size(0);
    Tensor dx, dw, db;
    if (next[0]) {  // dx [N, in] = g [N, out] W [out, in]
      dx = detail::empty_on({n, in}, dev);
      kernels::matmul(dev, detail::f32(dx), detail::f32(g), detail::f32(w_),
                      {n, in, out, false, false});
    }
    if (next[1]) {  // dW [out, in] = g^T [out, N] x [N, in]
      dw = detail::empty_on({out, in}, dev);
      kernels::matmul(dev, detail::f32(dw), detail::f32(g), detail::f32(x_),
                      {out, in, n, true, false});
    }
    if (next.size() > 2 && next[2]) {  // db [out] = column sums of g
      db = detail::empty_on({out}, dev);
      kernels::channel_sum(dev, detail::f32(db), detail::f32(g), {n, out, 1});
    }
    if (next.size() > 2) return {dx, dw, db};
    return {dx, dw};
  }
  void release() override {
    x_ = {};
    w_ = {};
  }

 private:
  Tensor x_, w_;
};

// c [M, N] = a [M, K] b [K, N]
class MatmulBackward final : public autograd::Node {
 public:
  MatmulBackward(Tensor a, Tensor b) : a_(std::move(a)), b_(std::move(b)) {}
  std::string name() const override { return "MatmulBackward"; }

  std::vector<Tensor> backward(const Tensor& grad_output) override {
    const Tensor g = grad_output.contiguous();
    const Device dev = g.device();
    const int64_t m = a_.size(0), k = a_.size(1), n = b_.size(1);
    Tensor da, db;
    if (next[0]) {  // da [M, K] = g [M, N] b^T
      da = detail::empty_on({m, k}, dev);
      kernels::matmul(dev, detail::f32(da), detail::f32(g), detail::f32(b_),
                      {m, k, n, false, true});
    }
    if (next[1]) {  // db [K, N] = a^T g
      db = detail::empty_on({k, n}, dev);
      kernels::matmul(dev, detail::f32(db), detail::f32(a_), detail::f32(g),
                      {k, n, m, true, false});
    }
    return {da, db};
  }
  void release() override {
    a_ = {};
    b_ = {};
  }

 private:
  Tensor a_, b_;
};

}  // namespace

Tensor linear(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, const Tensor& out) {
  constexpr const char* op = "linear";
  const Tensor x = detail::dense_f32(x_in, op, "input");
  const Tensor w = detail::dense_f32(w_in, op, "weight");
  detail::check_rank(x, 2, op, "input [N, in]");
  detail::check_rank(w, 2, op, "weight [out, in]");
  check_same_device(x, w, op);
  AR1_CHECK(x.size(1) == w.size(1), "[linear] weight ", w.describe(), " expects ", w.size(1),
            " input features, input ", x.describe(), " has ", x.size(1));
  Tensor b;
  if (b_in.defined()) {
    b = detail::dense_f32(b_in, op, "bias");
    check_same_device(x, b, op);
    AR1_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "[linear] bias ", b.describe(),
              " must be [", w.size(0), "] for weight ", w.describe());
  }
  const int64_t n = x.size(0), in = x.size(1), outf = w.size(0);
  const bool grad = autograd::needs_graph({&x, &w, &b});
  Tensor y = detail::make_output(out, {n, outf}, x.device(), grad, op);
  kernels::matmul(x.device(), detail::f32(y), detail::f32(x), detail::f32(w),
                  {n, outf, in, false, true});
  if (b.defined()) {
    kernels::BinaryDesc d{n, outf, 1, kernels::Broadcast::per_channel, kernels::BinaryOp::add};
    kernels::binary_forward(x.device(), detail::f32(y), detail::f32(y), detail::f32(b), d);
  }
  if (grad) {
    auto node = std::make_shared<LinearBackward>(x.detach(), w.detach());
    if (b.defined()) {
      autograd::record(node, {&x, &w, &b}, y);
    } else {
      autograd::record(node, {&x, &w}, y);
    }
  }
  return y;
}

Tensor matmul(const Tensor& a_in, const Tensor& b_in, const Tensor& out) {
  constexpr const char* op = "matmul";
  const Tensor a = detail::dense_f32(a_in, op, "a");
  const Tensor b = detail::dense_f32(b_in, op, "b");
  detail::check_rank(a, 2, op, "a [M, K]");
  detail::check_rank(b, 2, op, "b [K, N]");
  check_same_device(a, b, op);
  AR1_CHECK(a.size(1) == b.size(0), "[matmul] cannot multiply ", a.describe(), " by ",
            b.describe(), ": inner dimensions ", a.size(1), " and ", b.size(0), " differ");
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  const bool grad = autograd::needs_graph({&a, &b});
  Tensor c = detail::make_output(out, {m, n}, a.device(), grad, op);
  kernels::matmul(a.device(), detail::f32(c), detail::f32(a), detail::f32(b),
                  {m, n, k, false, false});
  if (grad) autograd::record(std::make_shared<MatmulBackward>(a.detach(), b.detach()), {&a, &b}, c);
  return c;
}

}  // namespace ar1::nn
