// The PyTorch fixtures of tests/nn/parity_pytorch_test.cpp on the GPU, at the CPU's tolerances
// (tests/support/pytorch_parity.h): every layer, and a whole MobileNetV1 (alpha 0.25) training
// step (forward, loss, gradients, running statistics, the SGD step), its evaluation forward
// (BatchReNorm folded into the convolutions) and its latent-replay step.
#include <doctest/doctest.h>

#include "tests/cuda/op_harness.h"
#include "tests/support/pytorch_parity.h"

using namespace ar1;
using namespace ar1::testing;

TEST_CASE("parity conv2d dense, strided, depthwise and pointwise on the gpu") {
  require_gpu();
  for (const char* name : {"conv_dense", "conv_dense_s2", "conv_depthwise", "conv_depthwise_s2",
                           "conv_pointwise"}) {
    CAPTURE(name);
    const SafetensorsFile f = fixture(name);
    const nn::ConvParams p{static_cast<int64_t>(meta_num(f, "stride")),
                           static_cast<int64_t>(meta_num(f, "padding")),
                           static_cast<int64_t>(meta_num(f, "groups"))};
    layer_case(
        name, {"x", "w"}, [&](const std::vector<Tensor>& in) { return nn::conv2d(in[0], in[1], p); },
        kGpu);
  }
}

TEST_CASE("parity linear, pooling, relu and cross entropy on the gpu") {
  require_gpu();
  layer_case(
      "linear", {"x", "w"}, [](const std::vector<Tensor>& in) { return nn::linear(in[0], in[1]); },
      kGpu);
  layer_case(
      "linear_bias", {"x", "w", "b"},
      [](const std::vector<Tensor>& in) { return nn::linear(in[0], in[1], in[2]); }, kGpu);
  layer_case(
      "avgpool_global", {"x"},
      [](const std::vector<Tensor>& in) { return nn::global_avg_pool2d(in[0]); }, kGpu);
  layer_case(
      "relu", {"x"}, [](const std::vector<Tensor>& in) { return nn::relu(in[0]); }, kGpu);
  layer_case(
      "cross_entropy", {"logits", "labels"},
      [](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], in[1]); }, kGpu);
}

TEST_CASE("parity mobilenet a025 train step on the gpu") {
  require_gpu();
  mobilenet_train_step_case(kGpu);
}

TEST_CASE("parity mobilenet a025 eval forward on the gpu") {
  require_gpu();
  mobilenet_eval_case(kGpu);
}

TEST_CASE("parity mobilenet a025 latent replay forward/backward on the gpu") {
  require_gpu();
  mobilenet_latent_replay_case(kGpu);
}
