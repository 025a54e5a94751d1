#pragma once
// Weight initialisation choices shared by Conv2d and Linear.
#include "core/rng.h"

namespace ar1::nn {

enum class WeightInit {
  // PyTorch's default for conv and linear layers: kaiming_uniform with a = sqrt(5), i.e.
  // uniform in +-1 / sqrt(fan_in).
  pytorch_default,
  // Kaiming-normal, fan_out, ReLU gain sqrt(2) (SPEC.md section 3c). For a grouped conv the
  // fan_out is that of one group, (out / groups) * kh * kw, as TensorFlow counts it: PyTorch's
  // out * kh * kw makes a depthwise 3x3 shrink activations by 1/C per layer, and with
  // lat_features' BatchReNorm frozen at mu = 0, sigma = 1 (SPEC.md 3c) the latents of a
  // MobileNetV1 vanish to 1e-12 by layer 19 and nothing is learnt.
  kaiming_normal_relu,
};

// A weight [out, in / groups, kh, kw] (or [out, in]) initialised as `init`.
Tensor init_weight(const Shape& shape, Generator& gen, WeightInit init, int64_t groups = 1);

}  // namespace ar1::nn
