#include "strategy/norm_recalibration.h"

#include <vector>

#include "core/grad_mode.h"
#include "nn/models/mobilenet_v1.h"

namespace ar1::strategy {

void recalibrate_batch_renorm(nn::Module& layers, const Tensor& input) {
  AR1_CHECK(input.defined() && input.numel() > 0, "[recalibrate_norm] no input to compute "
            "the BatchReNorm statistics from");
  const auto norms = nn::batch_renorm_layers(layers);
  if (norms.empty()) return;
  std::vector<nn::BatchReNormOptions> saved;
  for (const auto& [name, bn] : norms) {
    saved.push_back(bn->options());
    bn->set_momentum(1.0);
    bn->set_r_max(1.0);
    bn->set_d_max(0.0);
    bn->set_r_d_inc(0.0);
  }
  const bool was_training = layers.is_training();
  {
    NoGradGuard no_grad;
    layers.train();
    layers.forward(input);
  }
  layers.train(was_training);
  for (size_t i = 0; i < norms.size(); ++i) {
    nn::BatchReNorm2d* bn = norms[i].second;
    bn->set_momentum(saved[i].momentum);
    bn->set_r_max(saved[i].r_max);
    bn->set_d_max(saved[i].d_max);
    bn->set_r_d_inc(saved[i].r_d_inc);
  }
}

}  // namespace ar1::strategy
