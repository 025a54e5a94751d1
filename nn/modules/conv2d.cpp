#include "nn/modules/conv2d.h"

namespace ar1::nn {

Conv2d::Conv2d(const Conv2dOptions& o, Generator& gen, WeightInit init) : options_(o) {
  AR1_CHECK(o.in_channels > 0 && o.out_channels > 0 && o.kernel_size > 0 && o.groups > 0 &&
                o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0,
            "[Conv2d] in ", o.in_channels, ", out ", o.out_channels, ", kernel ", o.kernel_size,
            ", groups ", o.groups, ": need positive sizes and groups dividing both channel "
            "counts");
  weight_ = register_parameter(
      "weight", init_weight({o.out_channels, o.in_channels / o.groups, o.kernel_size,
                             o.kernel_size},
                            gen, init, o.groups));
}

}  // namespace ar1::nn
