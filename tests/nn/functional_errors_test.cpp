// Bad input raises ar1::Error whose message names the op and the shapes.
#include <doctest/doctest.h>

#include "core/grad_mode.h"
#include "kernels/device.h"
#include "nn/functional.h"
#include "tests/support/skip_test.h"

using namespace ar1;

namespace {
// The message of the Error `f` throws (fails the test if it throws none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no ar1::Error thrown");
  return "";
}
bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("functional errors: mismatched shapes name the op and both shapes") {
  const Tensor x = Tensor::zeros({2, 3, 8, 8});
  const std::string conv = error_of([&] { nn::conv2d(x, Tensor::zeros({4, 2, 3, 3}), {}); });
  CHECK(contains(conv, "[conv2d]"));
  CHECK(contains(conv, "f32[4, 2, 3, 3]"));
  CHECK(contains(conv, "f32[2, 3, 8, 8]"));
  const std::string lin = error_of([] { nn::linear(Tensor::zeros({2, 5}), Tensor::zeros({3, 4})); });
  CHECK(contains(lin, "[linear]"));
  CHECK(contains(lin, "[3, 4]"));
  const std::string mm = error_of([] { nn::matmul(Tensor::zeros({2, 5}), Tensor::zeros({4, 3})); });
  CHECK(contains(mm, "[matmul]"));
  CHECK(contains(mm, "[2, 5]"));
  const std::string add = error_of([&] { nn::add(x, Tensor::zeros({8})); });
  CHECK(contains(add, "[add]"));
  CHECK(contains(add, "f32[8]"));
  const std::string ce = error_of([] {
    nn::cross_entropy(Tensor::zeros({3, 4}), Tensor::zeros({2}, DType::i64));
  });
  CHECK(contains(ce, "[cross_entropy]"));
  CHECK(contains(error_of([&] { nn::conv2d(x, Tensor::zeros({4, 1, 3, 3}), {1, 1, 2}); }),
                 "groups"));
  CHECK(contains(error_of([&] { nn::conv2d(x, Tensor::zeros({4, 3, 9, 9}), {}); }), "larger"));
  CHECK(contains(error_of([] { nn::avg_pool2d(Tensor::zeros({1, 1, 2, 2}), {3, 1}); }),
                 "[avg_pool2d]"));
  CHECK(contains(error_of([] { Tensor::zeros({2, 3}).reshape({4, 2}); }), "[reshape]"));
  CHECK(contains(error_of([] { Tensor::zeros({2, 3}).slice(1, 3); }), "[slice]"));
  CHECK(contains(error_of([] { Tensor::concat({Tensor::zeros({2, 3}), Tensor::zeros({2, 4})}); }),
                 "[concat]"));
}

TEST_CASE("functional errors: wrong dtype names the expected dtype") {
  const Tensor labels_f32 = Tensor::zeros({3});
  const std::string ce = error_of([&] { nn::cross_entropy(Tensor::zeros({3, 4}), labels_f32); });
  CHECK(contains(ce, "must be i64"));
  const std::string conv = error_of(
      [] { nn::conv2d(Tensor::zeros({1, 1, 3, 3}, DType::i64), Tensor::zeros({1, 1, 1, 1}), {}); });
  CHECK(contains(conv, "must be f32"));
  CHECK(contains(error_of([] { Tensor::zeros({2}, DType::u8).data<float>(); }), "data<f32>"));
  CHECK(contains(error_of([] { Tensor::zeros({2}, DType::i64).set_requires_grad(true); }),
                 "only f32"));
}

TEST_CASE("functional errors: empty tensors and out-of-range labels are refused") {
  CHECK(contains(error_of([] { nn::relu(Tensor::zeros({0, 3})); }), "empty"));
  CHECK(contains(error_of([] { nn::conv2d(Tensor::zeros({0, 3, 4, 4}), Tensor::zeros({2, 3, 3, 3}), {}); }),
                 "empty"));
  const std::string ce = error_of([] {
    nn::cross_entropy(Tensor::zeros({2, 3}), Tensor::from_i64(std::vector<int64_t>{1, 3}, {2}));
  });
  CHECK(contains(ce, "label 3 at row 1"));
}

TEST_CASE("functional errors: backward on a non-scalar asks for a gradient") {
  Tensor x = Tensor::ones({2, 2});
  x.set_requires_grad(true);
  const Tensor y = nn::relu(x);
  const std::string msg = error_of([&] { y.backward(); });
  CHECK(contains(msg, "[backward]"));
  CHECK(contains(msg, "f32[2, 2]"));
  CHECK(contains(msg, "scalar"));
}

TEST_CASE("functional errors: out= with a gradient recorded or a wrong shape is refused") {
  Tensor x = Tensor::ones({2, 2});
  x.set_requires_grad(true);
  CHECK(contains(error_of([&] { nn::relu(x, Tensor::empty({2, 2})); }), "out="));
  NoGradGuard no_grad;
  CHECK(contains(error_of([&] { nn::relu(x, Tensor::empty({4})); }), "expected"));
}

TEST_CASE("functional errors: a cuda tensor without a usable GPU gives a clear error") {
  if (kernels::cuda_device_count() > 0) {
    ar1::testing::skip_test("a GPU is present: the no-GPU error cannot be provoked here");
  }
  const std::string msg = error_of([] { nn::to_device(Tensor::ones({2}), Device::cuda()); });
  CHECK(contains(msg, "cuda:0"));
  CHECK(contains(msg, "--device cpu"));
  // Allocating there directly, or moving a model, says the same.
  for (const std::string& m :
       {error_of([] { Tensor::empty({2}, DType::f32, Device::cuda(1)); }),
        error_of([] { Tensor::ones({2}).to(Device::cuda()); })}) {
    CHECK(contains(m, "cuda:"));
    CHECK(contains(m, "--device cpu"));
  }
}
