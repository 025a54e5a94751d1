#pragma once
// Flatten: merges dims start_dim.. into one ([N, C, 1, 1] -> [N, C] by default).
#include "nn/module.h"

namespace ar1::nn {

class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1) : start_dim_(start_dim) {}
  std::string type_name() const override { return "Flatten"; }
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim_); }

 private:
  int64_t start_dim_;
};

}  // namespace ar1::nn
