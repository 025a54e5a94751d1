#pragma once
// Weight initialisation choices shared by Conv2d and Linear.
#include "core/rng.h"

namespace ar1::nn {

enum class WeightInit {
  // PyTorch's default for conv and linear layers: kaiming_uniform with a = sqrt(5), i.e.
  // uniform in +-1 / sqrt(fan_in).
  pytorch_default,
  // Kaiming-normal, fan_out, ReLU gain sqrt(2) (SPEC.md section 3c).
  kaiming_normal_relu,
};

Tensor init_weight(const Shape& shape, Generator& gen, WeightInit init);

}  // namespace ar1::nn
