#pragma once
// ReLU as a layer (no parameters).
#include "nn/functional.h"
#include "nn/module.h"

namespace ar1::nn {

class ReLU : public Module {
 public:
  std::string type_name() const override { return "ReLU"; }
  Tensor forward(const Tensor& x) override { return relu(x); }
};

}  // namespace ar1::nn
