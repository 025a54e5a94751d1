// Finite-difference gradient checks for every differentiable functional op (tolerances:
// tests/support/gradcheck.h).
#include <doctest/doctest.h>

#include "nn/functional.h"
#include "tests/support/gradcheck.h"

using namespace ar1;
using ar1::testing::check_gradients;

namespace {

struct ConvCase {
  const char* name;
  Shape x, w;
  nn::ConvParams p;
};

}  // namespace

TEST_CASE("functional conv2d gradients match finite differences") {
  const ConvCase cases[] = {
      {"dense 3x3 stride 1 pad 1", {2, 3, 5, 5}, {4, 3, 3, 3}, {1, 1, 1}},
      {"dense 3x3 stride 2 pad 1", {2, 3, 6, 6}, {4, 3, 3, 3}, {2, 1, 1}},
      {"dense 3x3 stride 2 odd size", {1, 2, 7, 5}, {3, 2, 3, 3}, {2, 1, 1}},
      {"depthwise 3x3 stride 1", {2, 4, 5, 5}, {4, 1, 3, 3}, {1, 1, 4}},
      {"depthwise 3x3 stride 2", {2, 4, 6, 6}, {4, 1, 3, 3}, {2, 1, 4}},
      {"pointwise 1x1", {2, 5, 4, 4}, {3, 5, 1, 1}, {1, 0, 1}},
  };
  for (const ConvCase& c : cases) {
    CAPTURE(c.name);
    Generator gen(7);
    const nn::ConvParams p = c.p;
    check_gradients([p](const std::vector<Tensor>& in) { return nn::conv2d(in[0], in[1], p); },
                    {normal(c.x, gen), normal(c.w, gen)});
  }
}

TEST_CASE("functional linear gradients match finite differences, with and without bias") {
  Generator gen(8);
  check_gradients([](const std::vector<Tensor>& in) { return nn::linear(in[0], in[1]); },
                  {normal({3, 5}, gen), normal({4, 5}, gen)});
  check_gradients(
      [](const std::vector<Tensor>& in) { return nn::linear(in[0], in[1], in[2]); },
      {normal({3, 5}, gen), normal({4, 5}, gen), normal({4}, gen)});
}

TEST_CASE("functional matmul gradients match finite differences") {
  Generator gen(9);
  check_gradients([](const std::vector<Tensor>& in) { return nn::matmul(in[0], in[1]); },
                  {normal({3, 4}, gen), normal({4, 2}, gen)});
}

TEST_CASE("functional relu gradients match finite differences away from the kink") {
  Generator gen(10);
  check_gradients([](const std::vector<Tensor>& in) { return nn::relu(in[0]); },
                  {ar1::testing::away_from_zero({2, 3, 4}, gen)});
}

TEST_CASE("functional average pooling gradients match finite differences") {
  Generator gen(11);
  check_gradients(
      [](const std::vector<Tensor>& in) { return nn::avg_pool2d(in[0], {2, 2}); },
      {normal({2, 3, 4, 6}, gen)});
  check_gradients(
      [](const std::vector<Tensor>& in) { return nn::avg_pool2d(in[0], {3, 1}); },
      {normal({1, 2, 5, 4}, gen)});
  check_gradients([](const std::vector<Tensor>& in) { return nn::global_avg_pool2d(in[0]); },
                  {normal({2, 3, 3, 5}, gen)});
}

TEST_CASE("functional add sub mul gradients match finite differences for every broadcast") {
  Generator gen(12);
  const Shape a{2, 3, 2, 2};
  const std::vector<Shape> b_shapes{{2, 3, 2, 2}, {3}, {1, 3, 1, 1}, {3, 1, 1}, {1}};
  for (const Shape& bs : b_shapes) {
    CAPTURE(shape_str(bs));
    check_gradients([](const std::vector<Tensor>& in) { return nn::add(in[0], in[1]); },
                    {normal(a, gen), normal(bs, gen)});
    check_gradients([](const std::vector<Tensor>& in) { return nn::sub(in[0], in[1]); },
                    {normal(a, gen), normal(bs, gen)});
    check_gradients([](const std::vector<Tensor>& in) { return nn::mul(in[0], in[1]); },
                    {normal(a, gen), normal(bs, gen)});
  }
  // Per-channel on a 2-D [N, C] input, as a bias would be.
  check_gradients([](const std::vector<Tensor>& in) { return nn::mul(in[0], in[1]); },
                  {normal({4, 3}, gen), normal({3}, gen)});
}

TEST_CASE("functional sum and mean gradients match finite differences") {
  Generator gen(13);
  check_gradients([](const std::vector<Tensor>& in) { return nn::sum(in[0]); },
                  {normal({3, 4}, gen)});
  check_gradients([](const std::vector<Tensor>& in) { return nn::mean(in[0]); },
                  {normal({2, 3, 2}, gen)});
}

TEST_CASE("functional cross entropy gradients match finite differences") {
  Generator gen(14);
  const Tensor labels = Tensor::from_i64(std::vector<int64_t>{2, 0, 4, 4, 1}, {5});
  check_gradients(
      [labels](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], labels); },
      {normal({5, 6}, gen, 0.f, 2.f)}, {.eps = 1e-2, .atol = 1e-3, .rtol = 1e-2});
}

TEST_CASE("functional views reshape flatten slice concat contiguous pass gradients through") {
  Generator gen(15);
  check_gradients(
      [](const std::vector<Tensor>& in) { return in[0].reshape({3, 8}).slice(1, 3); },
      {normal({2, 3, 4}, gen)});
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return nn::mul(Tensor::concat({in[0], in[1]}).flatten(), Tensor::concat({in[0], in[1]}).flatten());
      },
      {normal({2, 3}, gen), normal({1, 3}, gen)});
  // A conv on a slice of a batch: the gradient lands only in the sliced rows.
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return nn::conv2d(in[0].slice(1, 2), in[1], {1, 1, 1});
      },
      {normal({3, 2, 4, 4}, gen), normal({2, 2, 3, 3}, gen)});
}

TEST_CASE("functional composite network gradients match finite differences") {
  // conv -> relu -> depthwise stride 2 -> global pool -> linear -> cross-entropy: a miniature
  // of the model, checking that the engine chains nodes and sums fan-in correctly.
  Generator gen(16);
  const Tensor labels = Tensor::from_i64(std::vector<int64_t>{1, 0}, {2});
  check_gradients(
      [labels](const std::vector<Tensor>& in) {
        Tensor h = nn::relu(nn::conv2d(in[0], in[1], {1, 1, 1}));
        h = nn::add(h, nn::conv2d(h, in[2], {1, 1, 3}));  // residual fan-in
        h = nn::global_avg_pool2d(nn::conv2d(h, in[2], {2, 1, 3})).flatten();
        return nn::cross_entropy(nn::linear(h, in[3]), labels);
      },
      {ar1::testing::away_from_zero({2, 2, 5, 5}, gen), normal({3, 2, 3, 3}, gen, 0.f, 0.5f),
       normal({3, 1, 3, 3}, gen, 0.f, 0.5f), normal({2, 3}, gen)},
      {.eps = 1e-3, .atol = 2e-3, .rtol = 2e-2});
}
