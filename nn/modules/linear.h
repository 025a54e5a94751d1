#pragma once
// Linear: y = x W^T (+ b); parameters "weight" [out, in] and, when bias is on, "bias" [out].
#include "nn/functional.h"
#include "nn/module.h"
#include "nn/modules/init.h"

namespace ar1::nn {

struct LinearOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
};

class Linear : public Module {
 public:
  // The bias, when present, is uniform in +-1 / sqrt(in_features) (PyTorch's default).
  Linear(const LinearOptions& options, Generator& gen,
         WeightInit init = WeightInit::pytorch_default);
  std::string type_name() const override { return "Linear"; }
  Tensor forward(const Tensor& x) override { return linear(x, weight_, bias_); }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias
  const LinearOptions& options() const { return options_; }

 private:
  LinearOptions options_;
  Tensor weight_, bias_;
};

}  // namespace ar1::nn
