#pragma once
// Average pooling layers (no parameters): a fixed window, or the whole map (-> [N, C, 1, 1]).
#include "nn/functional.h"
#include "nn/module.h"

namespace ar1::nn {

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0)
      : params_{kernel, stride > 0 ? stride : kernel} {}
  std::string type_name() const override { return "AvgPool2d"; }
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, params_); }

 private:
  PoolParams params_;
};

class GlobalAvgPool2d : public Module {
 public:
  std::string type_name() const override { return "GlobalAvgPool2d"; }
  Tensor forward(const Tensor& x) override { return global_avg_pool2d(x); }
};

}  // namespace ar1::nn
