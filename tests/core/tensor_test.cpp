#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>

#include "core/half.h"
#include "core/memory_format.h"
#include "core/tensor.h"

using namespace ar1;

TEST_CASE("tensor creation, shape, strides and 64-byte aligned storage") {
  const Tensor t = Tensor::zeros({2, 3, 4});
  CHECK(t.shape() == Shape{2, 3, 4});
  CHECK(t.strides() == Strides{12, 4, 1});
  CHECK(t.numel() == 24);
  CHECK(t.dim() == 3);
  CHECK(t.size(-1) == 4);
  CHECK(t.dtype() == DType::f32);
  CHECK(t.device() == Device::cpu());
  CHECK(t.is_contiguous());
  CHECK(reinterpret_cast<uintptr_t>(t.raw_data()) % 64 == 0);
  CHECK(Tensor::empty({5}, DType::i64).storage()->bytes() == 40);
  CHECK(Tensor::full({2}, 3.5f).to_vector<float>() == std::vector<float>{3.5f, 3.5f});
  CHECK(Tensor::scalar(2.f).dim() == 0);
  CHECK(Tensor::scalar(2.f).item() == 2.f);
  CHECK(t.describe() == "f32[2, 3, 4] cpu");
}

TEST_CASE("tensor reshape and flatten are views of contiguous tensors") {
  const Tensor t = Tensor::from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
  const Tensor r = t.reshape({3, -1});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.storage() == t.storage());
  CHECK(t.flatten(0).shape() == Shape{6});
  CHECK(Tensor::zeros({2, 3, 4, 5}).flatten().shape() == Shape{2, 60});
}

TEST_CASE("tensor slice along dim 0 is a view with an offset and contiguous copies") {
  const Tensor t = Tensor::from_vector({0, 1, 2, 3, 4, 5, 6, 7}, {4, 2});
  const Tensor s = t.slice(1, 3);
  CHECK(s.shape() == Shape{2, 2});
  CHECK(s.offset() == 2);
  CHECK(s.storage() == t.storage());
  CHECK(s.to_vector<float>() == std::vector<float>{2, 3, 4, 5});
  CHECK(t.slice(2, 2).numel() == 0);
  CHECK(s.contiguous().same_impl(s));  // already contiguous: no copy
  CHECK(s.clone().storage() != t.storage());
}

TEST_CASE("tensor concat along dim 0 copies the parts in order") {
  const Tensor a = Tensor::from_vector({1, 2}, {1, 2});
  const Tensor b = Tensor::from_vector({3, 4, 5, 6}, {2, 2});
  const Tensor c = Tensor::concat({a, b, a});
  CHECK(c.shape() == Shape{4, 2});
  CHECK(c.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6, 1, 2});
  const Tensor labels = Tensor::concat({Tensor::from_i64(std::vector<int64_t>{7}, {1}),
                                        Tensor::from_i64(std::vector<int64_t>{9}, {1})});
  CHECK(labels.to_vector<int64_t>() == std::vector<int64_t>{7, 9});
}

TEST_CASE("tensor strided copy gathers non-contiguous elements") {
  // A transposed view built by hand: shape [3, 2] over a [2, 3] buffer.
  const Tensor t = Tensor::from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
  auto impl = std::make_shared<TensorImpl>(t.impl());
  impl->shape = {3, 2};
  impl->strides = {1, 3};
  const Tensor tr(impl);
  CHECK_FALSE(tr.is_contiguous());
  CHECK(tr.contiguous().to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("tensor dtype conversions: f16, bf16, u8 and i64 round trips") {
  const Tensor x = Tensor::from_vector({0.f, 1.f, -2.5f, 65504.f, 1e-8f, 3.14159f}, {6});
  const std::vector<float> h = x.to(DType::f16).to(DType::f32).to_vector<float>();
  CHECK(h[0] == 0.f);
  CHECK(h[1] == 1.f);
  CHECK(h[2] == -2.5f);
  CHECK(h[3] == 65504.f);
  CHECK(h[4] == 0.f);  // below half's smallest subnormal (6e-8) rounds to zero
  CHECK(h[5] == doctest::Approx(3.14159).epsilon(1e-3));
  const std::vector<float> b = x.to(DType::bf16).to(DType::f32).to_vector<float>();
  CHECK(b[2] == -2.5f);
  CHECK(b[5] == doctest::Approx(3.14159).epsilon(4e-3));
  const Tensor u = Tensor::from_vector({-3.f, 0.4f, 0.6f, 254.5f, 300.f}, {5}).to(DType::u8);
  CHECK(u.to_vector<uint8_t>() == std::vector<uint8_t>{0, 0, 1, 254, 255});
  CHECK(Tensor::from_vector({2.f, -7.f}, {2}).to(DType::i64).to_vector<int64_t>() ==
        std::vector<int64_t>{2, -7});
}

TEST_CASE("tensor half conversions are exact on representable values and round to even") {
  CHECK(half_to_float(float_to_half(0.5f)) == 0.5f);
  CHECK(float_to_half(1.0f) == 0x3c00);
  CHECK(float_to_half(-2.0f) == 0xc000);
  CHECK(float_to_half(65520.f) == 0x7c00);            // rounds up to infinity
  CHECK(half_to_float(0x0001) == doctest::Approx(5.960464477539063e-08));  // smallest subnormal
  CHECK(float_to_half(half_to_float(0x0001)) == 0x0001);
  CHECK(float_to_half(1.f + 1.f / 2048.f) == 0x3c00);  // halfway: ties to even
  CHECK(float_to_bfloat16(1.f) == 0x3f80);
  CHECK(bfloat16_to_float(float_to_bfloat16(-3.f)) == -3.f);
}

TEST_CASE("to_channels_last keeps the values, concat and slice keep the format, gradients pass") {
  std::vector<float> v(2 * 3 * 2 * 2);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  Tensor x = Tensor::from_vector(v, {2, 3, 2, 2}).set_requires_grad(true);
  const Tensor y = x.to_channels_last();
  CHECK(is_channels_last(y));
  CHECK_FALSE(y.is_contiguous());
  CHECK(y.strides() == Strides{12, 1, 6, 3});
  CHECK(y.to_vector<float>() == v);                      // logical order unchanged
  CHECK(static_cast<const float*>(y.raw_data())[1] == 4.f);  // x[0, 1, 0, 0] is next in memory
  CHECK(y.to_channels_last().same_impl(y));

  const Tensor both = Tensor::concat({y, y.slice(1, 2)});
  CHECK(is_channels_last(both));
  CHECK(both.shape() == Shape{3, 3, 2, 2});
  std::vector<float> expected = v;
  expected.insert(expected.end(), v.begin() + 12, v.end());
  CHECK(both.to_vector<float>() == expected);

  both.contiguous().backward(Tensor::ones({3, 3, 2, 2}));
  std::vector<float> grad(v.size(), 1.f);
  std::fill(grad.begin() + 12, grad.end(), 2.f);  // the second sample is used twice
  CHECK(x.grad().to_vector<float>() == grad);
}
