#pragma once
// MobileNetV1 with Batch Renormalization (SPEC.md section 1), split for latent replay.
//
// Layers 0..26 are blocks "conv -> BatchReNorm2d -> ReLU" (children "conv" and "bn"; the ReLU
// is fused into the BatchReNorm2d op and has no parameters), layer 27 the global average pool.
// Layers 0..latent_layer_num form lat_features, the rest end_features (renumbered from 0);
// then Flatten and output (Linear, no bias). Parameter names therefore read
// lat_features.{i}.conv.weight, lat_features.{i}.bn.{gamma,beta,running_mean,running_std},
// end_features.{i - latent_layer_num - 1}...., output.weight.
#include <memory>

#include "nn/models/latent_split_model.h"
#include "nn/modules/all.h"

namespace ar1::nn {

struct MobileNetConfig {
  double alpha = 1.0;           // width multiplier: channels int(c * alpha)
  int64_t num_classes = 50;
  int64_t latent_layer_num = 19;  // last layer of lat_features, 0..26
  int64_t input_size = 128;      // H = W of the inputs, for latent_shape() (forward takes any)
  BatchReNormOptions bn = {};    // options of every BatchReNorm2d (fuse_relu is forced on)
};

// One conv layer of the table: conv (no bias) -> BatchReNorm2d -> ReLU (fused).
class ConvBnRelu : public Module {
 public:
  ConvBnRelu(const Conv2dOptions& conv, const BatchReNormOptions& bn, Generator& gen,
             WeightInit init);
  std::string type_name() const override { return "ConvBnRelu"; }
  // With the BatchReNorm in evaluation mode, one convolution with it folded in
  // (nn::conv2d_batch_renorm_eval); in training mode conv, then BatchReNorm.
  Tensor forward(const Tensor& x) override;
  const std::shared_ptr<Conv2d>& conv() const { return conv_; }
  const std::shared_ptr<BatchReNorm2d>& bn() const { return bn_; }

 private:
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<BatchReNorm2d> bn_;
};

using MobileNetOutput = LatentOutput;

class MobileNetV1 : public LatentSplitModel {
 public:
  static constexpr int64_t kNumLayers = 28;  // 27 conv blocks + the global pool

  MobileNetV1(const MobileNetConfig& config, Generator& gen,
              WeightInit init = WeightInit::pytorch_default);
  std::string type_name() const override { return "MobileNetV1"; }

  using LatentSplitModel::forward;  // forward(x) and forward(x, latent_input, return_lat_acts)

  const MobileNetConfig& config() const { return config_; }
  // Shape of one image's latent activation [C, h, w] for the configured input size.
  Shape latent_shape() const;

 private:
  MobileNetConfig config_;
};

// Every BatchReNorm2d in `m` (depth first), with its dotted name.
std::vector<std::pair<std::string, BatchReNorm2d*>> batch_renorm_layers(Module& m);

}  // namespace ar1::nn
