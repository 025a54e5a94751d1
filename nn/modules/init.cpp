#include "nn/modules/init.h"

#include <cmath>

namespace ar1::nn {

Tensor init_weight(const Shape& shape, Generator& gen, WeightInit init, int64_t groups) {
  switch (init) {
    case WeightInit::pytorch_default:
      return kaiming_uniform(shape, gen, FanMode::fan_in, std::sqrt(1.0 / 3.0));
    case WeightInit::kaiming_normal_relu:
      // shape[1] is already in / groups.
      return kaiming_normal(shape, gen, FanMode::fan_in, std::sqrt(2.0));
    case WeightInit::kaiming_normal_relu_fan_out: {
      const double fan_out = static_cast<double>(numel_of(shape) / shape[1]) /
                             static_cast<double>(groups);
      return normal(shape, gen, 0.f, static_cast<float>(std::sqrt(2.0 / fan_out)));
    }
  }
  AR1_FAIL("[init_weight] unknown WeightInit");
}

}  // namespace ar1::nn
