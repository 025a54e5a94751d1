#include <doctest/doctest.h>

#include "core/autograd/node.h"
#include "core/grad_mode.h"
#include "core/tensor.h"

using namespace ar1;

namespace {
// y = 2 x, elementwise, written against the Node API as an op author would.
class DoubleBackward final : public autograd::Node {
 public:
  std::string name() const override { return "DoubleBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = g.clone();
    for (int64_t i = 0; i < dx.numel(); ++i) dx.data<float>()[i] *= 2.f;
    return {dx};
  }
};
Tensor twice(const Tensor& x) {
  Tensor y = x.clone().detach();
  for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] *= 2.f;
  if (autograd::needs_graph({&x})) autograd::record(std::make_shared<DoubleBackward>(), {&x}, y);
  return y;
}
// The sum of all elements, differentiable through reshape + slice views.
Tensor total(const Tensor& x) {
  Tensor flat = x.flatten(0);
  Tensor acc = flat.slice(0, 1);
  for (int64_t i = 1; i < flat.numel(); ++i) {
    acc = Tensor::concat({acc, flat.slice(i, i + 1)});
  }
  return twice(acc);  // any non-scalar; callers pass a gradient
}
}  // namespace

TEST_CASE("autograd leaves, grad_fn, requires_grad propagation and detach") {
  Tensor x = Tensor::ones({3});
  CHECK_FALSE(x.requires_grad());
  x.set_requires_grad(true);
  CHECK(x.is_leaf());
  const Tensor y = twice(x);
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK(y.grad_fn()->name() == "DoubleBackward");
  const Tensor d = y.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.storage() == y.storage());
}

TEST_CASE("autograd backward accumulates into leaves and across uses") {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3});
  x.set_requires_grad(true);
  // z = concat(2x, 2(2x)): dz/dx summed over a projection of ones = 2 + 4 = 6 per element.
  const Tensor y = twice(x);
  const Tensor z = Tensor::concat({y, twice(y)});
  z.backward(Tensor::ones({6}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{6, 6, 6});
  // A second graph adds to .grad (no implicit zeroing, as in PyTorch).
  twice(x).backward(Tensor::ones({3}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{8, 8, 8});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("autograd gradients flow through reshape, slice and concat views") {
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {2, 2});
  x.set_requires_grad(true);
  const Tensor t = total(x);
  t.backward(Tensor::from_vector({1, 10, 100, 1000}, {4}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 20, 200, 2000});
}

TEST_CASE("autograd no-grad guard records nothing and restores the mode") {
  Tensor x = Tensor::ones({2});
  x.set_requires_grad(true);
  CHECK(grad_enabled());
  {
    NoGradGuard guard;
    CHECK_FALSE(grad_enabled());
    const Tensor y = twice(x);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
  }
  CHECK(grad_enabled());
}

TEST_CASE("autograd frees the graph after backward and a second backward is a clear error") {
  Tensor x = Tensor::ones({2});
  x.set_requires_grad(true);
  const Tensor y = twice(twice(x));
  y.backward(Tensor::ones({2}));
  CHECK(y.grad_fn()->released);
  CHECK(y.grad_fn()->next.empty());  // edges dropped: the graph below is freed
  try {
    y.backward(Tensor::ones({2}));
    FAIL("second backward did not throw");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("retain_graph") != std::string::npos);
  }
}

TEST_CASE("autograd retain_graph allows a second backward") {
  Tensor x = Tensor::ones({2});
  x.set_requires_grad(true);
  const Tensor y = twice(x);
  y.backward(Tensor::ones({2}), /*retain_graph=*/true);
  y.backward(Tensor::ones({2}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{4, 4});
}

TEST_CASE("autograd backward without a gradient needs a scalar and a graph") {
  Tensor x = Tensor::ones({1});
  x.set_requires_grad(true);
  twice(x).backward();  // one element: implicit gradient 1
  CHECK(x.grad().item() == 2.f);
  const Tensor plain = Tensor::ones({1});
  CHECK_THROWS_WITH_AS(plain.backward(), doctest::Contains("does not require a gradient"), Error);
  CHECK_THROWS_AS(twice(x).backward(Tensor::ones({3})), Error);  // gradient shape mismatch
}

TEST_CASE("autograd handles a deep chain without recursion") {
  Tensor x = Tensor::ones({1});
  x.set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = y.reshape({1});  // 20000 nodes
  y.backward();
  CHECK(x.grad().item() == 1.f);
}
