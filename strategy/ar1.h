#pragma once
// AR1 with latent replay (SPEC.md section 3; Avalanche's avalanche.training.AR1): CWR* on the
// output layer, optional Synaptic Intelligence, a replay memory of latent activations joined
// to each minibatch above the latent layer, a Batch Renormalization schedule, and freezing of
// the lower network after the first experience.
//
// The model is any LatentSplitModel (MobileNetV1 or a Sequential cut anywhere, SPEC.md 3b).
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "nn/models/latent_split_model.h"
#include "strategy/cwr_star_plugin.h"
#include "strategy/graph_steps.h"
#include "strategy/latent_replay_memory.h"
#include "strategy/metrics/evaluation_plugin.h"
#include "strategy/replay_plan.h"
#include "strategy/synaptic_intelligence_plugin.h"
#include "strategy/latent_cache.h"
#include "strategy/template.h"

namespace ar1::strategy {

// The seed's constructor arguments (same names and defaults), then SPEC.md 3b / 3c options
// whose defaults reproduce section 3.
struct AR1Options {
  double lr = 0.001;
  double momentum = 0.9;
  double l2 = 0.0005;
  int64_t train_epochs = 4;
  double init_update_rate = 0.01;
  double inc_update_rate = 5e-5;
  double max_r_max = 1.25;
  double max_d_max = 0.5;
  double inc_step = 4.1e-5;
  int64_t rm_sz = 1500;
  std::string freeze_below_layer = "lat_features.19.bn";
  int64_t latent_layer_num = 19;  // must match the model's split (checked)
  double ewc_lambda = 0;
  int64_t train_mb_size = 128;
  int64_t eval_mb_size = 128;
  Device device = Device::cpu();
  int eval_every = -1;

  double inc_lr = 5e-5;          // SGD learning rate for e > 0 (the seed's inc_lr)
  int64_t first_epochs = 0;      // epochs of experience 0 (0: train_epochs)
  double first_lr = 0;           // learning rate of experience 0 (0: lr)
  bool freeze_norm = false;      // also freeze BatchReNorm gamma/beta below the freeze point
  bool refresh_latents = false;  // recompute kept latents with the final weights
  // For long streams of small experiences (beyond section 3; off keeps it). replay_wrap:
  // replayed rows wrap around the memory, so no minibatch is a lone tail of one or two new
  // images (train-mode BatchReNorm over 2 patterns has channels of variance ~0, divides by
  // ~sqrt(eps), and its gradients explode).
  bool replay_wrap = false;
  // After each experience end_features' BatchReNorm running statistics become the exact
  // statistics of the replay memory under the final weights (strategy/norm_recalibration.h):
  // the running ones lag the weights and the evaluation accuracy dips.
  bool recalibrate_norm = false;
  bool shuffle = true;           // false: new images in dataset order (reference runs)
  // SPEC 3b: reuse the frozen lower layers' activations between epochs (exact; applies when
  // a whole prefix of lat_features is frozen and the training pipeline is not random).
  bool latent_cache = true;
  // The same for evaluation: once a prefix of lat_features is frozen (from the second
  // experience on) its outputs on the evaluation images do not change, so each image's is
  // computed once and evaluation runs only the layers above (exact; needs a deterministic
  // evaluation pipeline). At most eval_latent_cache_mib MiB; beyond it rows are recomputed
  // (CORe50's 44,972 test images at 128 x 128 take 5.6 GiB at layer 19, alpha 1).
  bool eval_latent_cache = true;
  int64_t eval_latent_cache_mib = 1024;
  ReplayDType replay_dtype = ReplayDType::f32;
  // On a GPU: where the replay memory is served from (strategy/latent_replay_memory.h); auto
  // keeps it on the device when its full capacity fits in replay_device_share of the device's
  // free memory, else in page-locked host memory streamed per minibatch.
  ReplayPlacement replay_placement = ReplayPlacement::automatic;
  double replay_device_share = 0.25;
  // On a GPU: the training step above the latent cut and the evaluation forward as replayed
  // CUDA graphs once their shapes repeat (strategy/graph_steps.h); off: eager launches.
  bool cuda_graphs = true;
  // On a GPU: only deterministic cuDNN algorithms (kernels::set_deterministic, process-wide,
  // set by the constructor), so two runs on one GPU give bit-identical weights.
  bool deterministic = false;

  uint64_t seed = 0;
  int num_workers = 0;
  data::Pipeline train_pipeline = data::standard_pipeline(0);
  data::Pipeline eval_pipeline = data::standard_pipeline(0);
};

class AR1 : public SupervisedTemplate {
 public:
  AR1(std::shared_ptr<nn::LatentSplitModel> model, AR1Options options,
      std::vector<std::shared_ptr<Plugin>> plugins = {},
      std::shared_ptr<EvaluationPlugin> evaluator = nullptr);

  const AR1Options& ar1_options() const { return ar1_; }
  LatentReplayMemory& replay_memory() { return memory_; }
  const LatentCache& latent_cache() const { return latent_cache_; }
  const LatentCache& eval_latent_cache() const { return eval_cache_; }
  CwrStarPlugin& cwr_plugin() { return *cwr_; }
  SynapticIntelligencePlugin* si_plugin() { return si_.get(); }
  nn::LatentSplitModel& split_model() { return *model_; }
  const ReplayPlan& replay_plan() const { return plan_; }
  const GraphSteps& train_graphs() const { return train_graphs_; }
  const GraphSteps& eval_graphs() const { return eval_graphs_; }

  // Names of the parameters frozen for experiences after the first, in order.
  std::vector<std::string> frozen_parameter_names() const;

 protected:
  void make_train_dataloader() override;
  void model_adaptation() override;
  void make_optimizer() override;
  void training_epoch() override;
  // Training: lat_features on the new images (no graph below the first trainable layer), the
  // replayed latents joined along the batch, then the head. Evaluation: the whole model.
  void forward() override;
  // The step above the latent cut, eagerly or as a CUDA graph replay.
  void training_step() override;
  void eval_dataset_adaptation() override;
  void finish_experience() override;

  // Random choices, overridable so a test can replay another implementation's draws:
  // which of `candidates` first-epoch positions enter the memory, and the memory rows they go
  // to.
  virtual std::vector<int64_t> choose_kept_positions(int64_t candidates);
  virtual std::vector<int64_t> choose_memory_slots(int64_t count);

 private:
  void freeze_lower_layers();
  void apply_batch_renorm_schedule();
  void split_lower_network();
  Tensor latent_of(const Tensor& x);
  // Evaluation forward, through eval_cache_ where it applies.
  void eval_forward();
  void refresh_kept_latents();
  // First epoch: keep the chosen images' latents (rows of `lat`), each with its own label.
  void keep_latents(const Tensor& lat);
  // Whether this step may be a graph: a GPU, graphs on, every plugin graph_safe, and (training)
  // no Batch Renormalization limit still growing per step.
  bool graphs_allowed(bool training) const;

  std::shared_ptr<nn::LatentSplitModel> model_;
  AR1Options ar1_;
  LatentReplayMemory memory_;
  std::shared_ptr<CwrStarPlugin> cwr_;
  std::shared_ptr<SynapticIntelligencePlugin> si_;

  ReplayPlan plan_;
  // lat_features cut where the first trainable parameter sits: no graph below it.
  std::shared_ptr<nn::Sequential> frozen_part_, trainable_part_;
  LatentCache latent_cache_;  // frozen_part_'s output per image, this experience
  // frozen_part_'s output per evaluation image, keyed by (dataset ordinal, index); valid while
  // frozen_part_ keeps eval_cache_layers_ layers.
  LatentCache eval_cache_;
  std::vector<data::DatasetPtr> eval_cache_datasets_;
  int64_t eval_cache_layers_ = 0;
  // Positions (in the first epoch's order) whose latents enter the memory, and what was kept.
  std::vector<int64_t> keep_positions_;
  std::vector<int64_t> kept_indices_;  // dataset indices of the kept images
  std::vector<Tensor> kept_latents_;
  std::vector<int64_t> kept_labels_;
  // The current iteration: its loader batch, the replayed latents, the batch's position in
  // the epoch, and (first epoch only) which positions are kept.
  data::Batch batch_;
  Tensor replay_x_;
  Tensor step_h_;    // the step's input above the frozen layers (their output, or the images)
  Tensor step_lat_;  // lat_features' output of the step's new images
  GraphSteps train_graphs_, eval_graphs_;
  int64_t position_ = 0;
  std::unordered_map<int64_t, size_t> keep_rank_;
};

}  // namespace ar1::strategy
