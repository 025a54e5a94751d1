#pragma once
// Weight initialisation choices shared by Conv2d and Linear.
#include "core/rng.h"

namespace ar1::nn {

enum class WeightInit {
  // PyTorch's default for conv and linear layers: kaiming_uniform with a = sqrt(5), i.e.
  // uniform in +-1 / sqrt(fan_in).
  pytorch_default,
  // Kaiming-normal, fan_in, ReLU gain sqrt(2) (SPEC.md section 3c): std = sqrt(2 / fan_in) with
  // fan_in = in / groups * kh * kw, the count of inputs that reach one output. It keeps the
  // activations' scale from layer to layer, which matters because lat_features' BatchReNorm is
  // frozen at mu = 0, sigma = 1 when training starts from random weights (SPEC.md 3c).
  kaiming_normal_relu,
  // The same with the fan_out of one group, (out / groups) * kh * kw (as TensorFlow counts it;
  // PyTorch's out * kh * kw makes a depthwise 3x3 shrink activations by 1/C per layer). The
  // default before SPEC.md 3c was corrected: it leaves the main job's result at the mercy of
  // the seed (61-73 % against 70-73 %).
  kaiming_normal_relu_fan_out,
};

// A weight [out, in / groups, kh, kw] (or [out, in]) initialised as `init`.
Tensor init_weight(const Shape& shape, Generator& gen, WeightInit init, int64_t groups = 1);

}  // namespace ar1::nn
