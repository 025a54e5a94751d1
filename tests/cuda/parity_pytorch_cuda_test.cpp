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
  conv_layer_cases(kGpu);
}

TEST_CASE("parity linear, pooling, relu and cross entropy on the gpu") {
  require_gpu();
  other_layer_cases(kGpu);
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
