#pragma once
// A classifier cut in two for latent replay (SPEC.md 3b: "any split point of any Sequential
// model"): lat_features (layers 0..latent_layer_num of a body), end_features (the rest of the
// body), then flatten and output (a Linear head). Latent activations are lat_features' output;
// replayed latents join the new ones along the batch before end_features.
//
// Children are named lat_features, end_features and output, so parameter names read
// lat_features.{i}...., end_features.{j}...., output.weight whatever the body.
#include <memory>

#include "nn/modules/all.h"

namespace ar1::nn {

struct LatentOutput {
  Tensor logits;  // [N_x + N_latent, classes]
  Tensor latent;  // lat_features(x) [N_x, ...], only when asked for
};

class LatentSplitModel : public Module {
 public:
  // Layers [0, latent_layer_num] of `body` form lat_features (shared, not copied).
  LatentSplitModel(const Sequential& body, int64_t latent_layer_num,
                   std::shared_ptr<Linear> output);
  std::string type_name() const override { return "LatentSplitModel"; }

  // logits of x.
  Tensor forward(const Tensor& x) override;
  // logits of concat(lat_features(x), latent_input) along the batch; latent_input may be
  // undefined or empty (nothing replayed). With return_lat_acts, also lat_features(x) alone.
  LatentOutput forward(const Tensor& x, const Tensor& latent_input, bool return_lat_acts = false);
  // output(flatten(end_features(z))): the part above the split, on latents.
  Tensor head(const Tensor& z);

  const std::shared_ptr<Sequential>& lat_features() const { return lat_features_; }
  const std::shared_ptr<Sequential>& end_features() const { return end_features_; }
  const std::shared_ptr<Linear>& output() const { return output_; }
  int64_t latent_layer_num() const { return latent_layer_num_; }

 protected:
  LatentSplitModel() = default;
  void build(const Sequential& body, int64_t latent_layer_num, std::shared_ptr<Linear> output);

 private:
  int64_t latent_layer_num_ = 0;
  std::shared_ptr<Sequential> lat_features_, end_features_;
  std::shared_ptr<Linear> output_;
};

}  // namespace ar1::nn
