#pragma once
// Conv2d: weight [out, in / groups, k, k], no bias (every conv in MobileNetV1 is followed by a
// normalisation layer). Parameter: "weight".
#include "nn/functional.h"
#include "nn/module.h"
#include "nn/modules/init.h"

namespace ar1::nn {

struct Conv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel_size = 3;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t groups = 1;
};

class Conv2d : public Module {
 public:
  Conv2d(const Conv2dOptions& options, Generator& gen,
         WeightInit init = WeightInit::pytorch_default);
  std::string type_name() const override { return "Conv2d"; }
  Tensor forward(const Tensor& x) override {
    return conv2d(x, weight_, {options_.stride, options_.padding, options_.groups});
  }
  const Tensor& weight() const { return weight_; }
  const Conv2dOptions& options() const { return options_; }

 private:
  Conv2dOptions options_;
  Tensor weight_;
};

}  // namespace ar1::nn
