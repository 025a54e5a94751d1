#include "nn/modules/init.h"

#include <cmath>

namespace ar1::nn {

Tensor init_weight(const Shape& shape, Generator& gen, WeightInit init) {
  switch (init) {
    case WeightInit::pytorch_default:
      return kaiming_uniform(shape, gen, FanMode::fan_in, std::sqrt(1.0 / 3.0));
    case WeightInit::kaiming_normal_relu:
      return kaiming_normal(shape, gen, FanMode::fan_out, std::sqrt(2.0));
  }
  AR1_FAIL("[init_weight] unknown WeightInit");
}

}  // namespace ar1::nn
