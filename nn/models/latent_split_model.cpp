#include "nn/models/latent_split_model.h"

#include <algorithm>

namespace ar1::nn {

LatentSplitModel::LatentSplitModel(const Sequential& body, int64_t latent_layer_num,
                                   std::shared_ptr<Linear> output) {
  build(body, latent_layer_num, std::move(output));
}

void LatentSplitModel::build(const Sequential& body, int64_t latent_layer_num,
                             std::shared_ptr<Linear> output) {
  AR1_CHECK(latent_layer_num >= 0 && latent_layer_num < body.size(), "[", type_name(),
            "] latent_layer_num ", latent_layer_num, " out of range: the body has layers 0..",
            body.size() - 1);
  AR1_CHECK(output != nullptr, "[", type_name(), "] needs an output layer");
  latent_layer_num_ = latent_layer_num;
  auto [lower, upper] = split_sequential(body, latent_layer_num + 1);
  lat_features_ = register_module("lat_features", lower);
  end_features_ = register_module("end_features", upper);
  output_ = register_module("output", std::move(output));
}

Tensor LatentSplitModel::forward(const Tensor& x) { return forward(x, Tensor(), false).logits; }

Tensor LatentSplitModel::head(const Tensor& z) {
  return output_->forward(end_features_->forward(z).flatten(1));
}

LatentOutput LatentSplitModel::forward(const Tensor& x, const Tensor& latent_input,
                                       bool return_lat_acts) {
  check_defined(x, type_name().c_str(), "input");
  LatentOutput out;
  const Tensor lat = lat_features_->forward(x);
  Tensor z = lat;
  if (latent_input.defined() && latent_input.size(0) > 0) {
    AR1_CHECK(latent_input.dim() == lat.dim() &&
                  std::equal(lat.shape().begin() + 1, lat.shape().end(),
                             latent_input.shape().begin() + 1),
              "[", type_name(), "] latent_input ", latent_input.describe(),
              " must match the latent activations ", lat.describe(), " after the batch dim");
    z = Tensor::concat({lat, latent_input});
  }
  if (return_lat_acts) out.latent = lat;
  out.logits = head(z);
  return out;
}

}  // namespace ar1::nn
