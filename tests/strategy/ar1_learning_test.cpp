// Learning check on real data (SPEC.md 3c): on a Fashion-MNIST class-incremental scenario
// (5 experiences of 2 classes, 300 training images per class, 32 x 32, alpha 0.5, random
// weights) AR1 with the from-scratch recipe must beat plain fine-tuning by >= 20 points of
// final stream accuracy. On the portable CPU kernels: the same figures on every machine (and
// on AVX2 a third of oneDNN's time at these small maps).
#include <doctest/doctest.h>

#include <filesystem>

#include "data/idx_reader.h"
#include "data/nc_scenario.h"
#include "nn/models/mobilenet_v1.h"
#include "strategy/ar1.h"
#include "strategy/naive.h"
#include "tests/support/cpu_kernel_sets.h"
#include "tests/support/fashion_mnist.h"

using namespace ar1;
using namespace ar1::strategy;

namespace {

const char* kStreamAcc = "Top1_Acc_Stream/eval_phase/test_stream/Task000";

std::shared_ptr<nn::MobileNetV1> model(double bn_momentum) {
  Generator gen(0);
  nn::MobileNetConfig mc;
  mc.alpha = 0.5;
  mc.num_classes = 10;
  mc.input_size = 32;
  mc.bn.momentum = bn_momentum;
  return std::make_shared<nn::MobileNetV1>(mc, gen, nn::WeightInit::kaiming_normal_relu);
}

}  // namespace

TEST_CASE("learning ar1 beats naive by 20 points on fashion-mnist class-incremental") {
  const std::filesystem::path fashion = testing::fashion_mnist_or_skip();
  const testing::ScopedCpuKernels portable(kernels::CpuKernels::portable);
  const auto train = data::take_per_class(data::load_mnist_folder(fashion, data::Split::train), 300);
  const auto test = data::take_per_class(data::load_mnist_folder(fashion, data::Split::test), 100);
  const data::Benchmark b = data::nc_benchmark(train, test, {});

  AR1Options o;  // SPEC.md 3c's recipe
  o.lr = 0.01;
  o.first_epochs = 10;
  o.train_epochs = 4;
  o.init_update_rate = 0.1;
  o.inc_update_rate = 0.01;
  o.inc_lr = 1e-3;
  o.freeze_norm = true;
  o.freeze_below_layer = "end_features.0.conv";
  o.refresh_latents = true;
  o.train_pipeline = o.eval_pipeline = data::standard_pipeline(32);
  AR1 ar1(model(o.init_update_rate), o);
  ar1.train(b.train_stream);
  const double ar1_acc = ar1.eval(b.test_stream)[kStreamAcc];

  TemplateOptions n;  // same init and lr; PyTorch's BatchNorm momentum
  n.train_epochs = 4;
  n.sgd = {0.01, 0.9, 5e-4};
  n.train_pipeline = n.eval_pipeline = data::standard_pipeline(32);
  Naive naive(model(0.1), n);
  naive.train(b.train_stream);
  const double naive_acc = naive.eval(b.test_stream)[kStreamAcc];

  MESSAGE("final stream accuracy: AR1 ", ar1_acc, ", Naive ", naive_acc);
  CHECK(ar1_acc - naive_acc >= 0.20);
}
