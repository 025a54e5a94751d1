#include "nn/models/mobilenet_v1.h"


namespace ar1::nn {

namespace {

// The layer table of SPEC.md section 1 at alpha = 1: (depthwise?, out channels, stride).
enum class Kind { dense3x3, depthwise3x3, pointwise };
struct LayerSpec {
  Kind kind;
  int64_t out;
  int64_t stride;
};

std::vector<LayerSpec> layer_table() {
  std::vector<LayerSpec> t{{Kind::dense3x3, 32, 2}};  // 0: 3x3 conv, stride 2
  // (dw stride, pw out) for layers 1..26.
  const std::pair<int64_t, int64_t> pairs[] = {{1, 64},  {2, 128}, {1, 128}, {2, 256},
                                               {1, 256}, {2, 512}, {1, 512}, {1, 512},
                                               {1, 512}, {1, 512}, {1, 512}, {2, 1024},
                                               {1, 1024}};
  int64_t channels = 32;
  for (const auto& [stride, out] : pairs) {
    t.push_back({Kind::depthwise3x3, channels, stride});
    t.push_back({Kind::pointwise, out, 1});
    channels = out;
  }
  return t;
}

int64_t scaled(int64_t c, double alpha) { return static_cast<int64_t>(c * alpha); }

}  // namespace

ConvBnRelu::ConvBnRelu(const Conv2dOptions& conv, const BatchReNormOptions& bn, Generator& gen,
                       WeightInit init) {
  conv_ = register_module("conv", std::make_shared<Conv2d>(conv, gen, init));
  BatchReNormOptions o = bn;
  o.fuse_relu = true;
  bn_ = register_module("bn", std::make_shared<BatchReNorm2d>(conv.out_channels, o));
}

Tensor ConvBnRelu::forward(const Tensor& x) {
  if (bn_->is_training()) return bn_->forward(conv_->forward(x));
  const Conv2dOptions& c = conv_->options();
  return conv2d_batch_renorm_eval(x, conv_->weight(), bn_->gamma(), bn_->beta(),
                                  bn_->running_mean(), bn_->running_std(),
                                  {c.stride, c.padding, c.groups}, bn_->options().fuse_relu);
}

MobileNetV1::MobileNetV1(const MobileNetConfig& config, Generator& gen, WeightInit init)
    : config_(config) {
  AR1_CHECK(config.alpha > 0 && config.num_classes > 0, "[MobileNetV1] alpha ", config.alpha,
            " and num_classes ", config.num_classes, " must be positive");
  AR1_CHECK(config.latent_layer_num >= 0 && config.latent_layer_num <= 26,
            "[MobileNetV1] latent_layer_num ", config.latent_layer_num,
            " out of range: the last layer of lat_features must be one of the conv layers "
            "0..26");
  Sequential all;
  int64_t in = 3;
  for (const LayerSpec& l : layer_table()) {
    Conv2dOptions c;
    c.in_channels = in;
    c.out_channels = scaled(l.out, config.alpha);
    AR1_CHECK(c.out_channels > 0, "[MobileNetV1] alpha ", config.alpha, " leaves a layer of ",
              l.out, " channels with none");
    c.stride = l.stride;
    switch (l.kind) {
      case Kind::dense3x3: c.kernel_size = 3, c.padding = 1; break;
      case Kind::depthwise3x3: c.kernel_size = 3, c.padding = 1, c.groups = in; break;
      case Kind::pointwise: c.kernel_size = 1, c.padding = 0; break;
    }
    all.push_back(std::make_shared<ConvBnRelu>(c, config.bn, gen, init));
    in = c.out_channels;
  }
  all.push_back(std::make_shared<GlobalAvgPool2d>());
  LinearOptions lo;
  lo.in_features = in;
  lo.out_features = config.num_classes;
  lo.bias = false;
  build(all, config.latent_layer_num, std::make_shared<Linear>(lo, gen));
}

Shape MobileNetV1::latent_shape() const {
  // Output size of a 3x3, pad 1 conv (or 1x1, pad 0) with stride s: (h - 1) / s + 1.
  const auto table = layer_table();
  int64_t h = config_.input_size;
  for (int64_t i = 0; i <= config_.latent_layer_num; ++i) h = (h - 1) / table[i].stride + 1;
  return {scaled(table[config_.latent_layer_num].out, config_.alpha), h, h};
}

std::vector<std::pair<std::string, BatchReNorm2d*>> batch_renorm_layers(Module& m) {
  std::vector<std::pair<std::string, BatchReNorm2d*>> out;
  for (auto& [name, mod] : m.named_modules()) {
    if (auto* b = dynamic_cast<BatchReNorm2d*>(mod)) out.emplace_back(name, b);
  }
  return out;
}

}  // namespace ar1::nn
