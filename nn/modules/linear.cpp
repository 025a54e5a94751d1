#include "nn/modules/linear.h"

#include <cmath>

namespace ar1::nn {

Linear::Linear(const LinearOptions& o, Generator& gen, WeightInit init) : options_(o) {
  AR1_CHECK(o.in_features > 0 && o.out_features > 0, "[Linear] in ", o.in_features, ", out ",
            o.out_features, ": both must be positive");
  weight_ = register_parameter("weight", init_weight({o.out_features, o.in_features}, gen, init));
  if (o.bias) {
    const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(o.in_features)));
    bias_ = register_parameter("bias", uniform({o.out_features}, gen, -bound, bound));
  }
}

}  // namespace ar1::nn
