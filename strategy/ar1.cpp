#include "strategy/ar1.h"

#include <algorithm>
#include <unordered_map>

#include "core/grad_mode.h"
#include "kernels/device_runtime.h"
#include "nn/functional.h"
#include "nn/models/mobilenet_v1.h"
#include "strategy/batch_prefetcher.h"
#include "strategy/norm_recalibration.h"

namespace ar1::strategy {

namespace {

TemplateOptions template_options(const AR1Options& o) {
  TemplateOptions t;
  t.train_mb_size = o.train_mb_size;
  t.train_epochs = o.train_epochs;
  t.eval_mb_size = o.eval_mb_size;
  t.eval_every = o.eval_every;
  t.device = o.device;
  t.seed = o.seed;
  t.num_workers = o.num_workers;
  t.train_pipeline = o.train_pipeline;
  t.eval_pipeline = o.eval_pipeline;
  t.sgd = {o.lr, o.momentum, o.l2};
  return t;
}

// The layer a parameter belongs to: its name without the last component.
std::string layer_of(const std::string& param) {
  const auto dot = param.rfind('.');
  return dot == std::string::npos ? std::string() : param.substr(0, dot);
}

// True when `layer` is `point` or lies inside it ("lat_features.19" holds
// "lat_features.19.conv").
bool within(const std::string& layer, const std::string& point) {
  return layer == point || layer.rfind(point + ".", 0) == 0;
}

}  // namespace

AR1::AR1(std::shared_ptr<nn::LatentSplitModel> model, AR1Options options,
         std::vector<std::shared_ptr<Plugin>> plugins, std::shared_ptr<EvaluationPlugin> evaluator)
    : SupervisedTemplate(model, template_options(options), {}, std::move(evaluator)),
      model_(std::move(model)),
      ar1_(std::move(options)),
      memory_(ar1_.rm_sz, ar1_.replay_dtype),
      eval_cache_(std::max<int64_t>(0, ar1_.eval_latent_cache_mib) << 20),
      train_graphs_(ar1_.device),
      eval_graphs_(ar1_.device) {
  AR1_CHECK(ar1_.latent_layer_num == model_->latent_layer_num(), "[ar1] latent_layer_num ",
            ar1_.latent_layer_num, " but the model is split after layer ",
            model_->latent_layer_num(), "; build the model with the same split");
  AR1_CHECK(ar1_.lr > 0 && ar1_.inc_lr > 0, "[ar1] lr and inc_lr must be > 0, got ", ar1_.lr,
            " and ", ar1_.inc_lr);
  AR1_CHECK(ar1_.first_epochs >= 0, "[ar1] first_epochs must be >= 0");
  AR1_CHECK(ar1_.eval_latent_cache_mib >= 0, "[ar1] eval_latent_cache_mib must be >= 0, got ",
            ar1_.eval_latent_cache_mib);
  AR1_CHECK(ar1_.replay_device_share > 0 && ar1_.replay_device_share <= 1,
            "[ar1] replay_device_share must be in (0, 1], got ", ar1_.replay_device_share);
  frozen_parameter_names();  // validates freeze_below_layer now, not after experience 0
  memory_.serve_on(ar1_.device, ar1_.replay_placement, ar1_.replay_device_share);
  if (ar1_.device.is_cuda()) kernels::set_deterministic(ar1_.deterministic);

  // Set-up: every BatchReNorm takes AR1's rates and caps.
  for (auto& [name, bn] : nn::batch_renorm_layers(*model_)) {
    bn->set_momentum(ar1_.init_update_rate);
    bn->set_r_d_inc(ar1_.inc_step);
    bn->set_max_r_max(ar1_.max_r_max);
    bn->set_max_d_max(ar1_.max_d_max);
  }
  // AR1's own plugins run first, so user plugins see their effect: CWR* counts the replayed
  // labels too; SI only when asked for.
  cwr_ = std::make_shared<CwrStarPlugin>(
      model_->output()->weight().size(0), "output.weight", [this](SupervisedTemplate& s) {
        std::vector<int64_t> counts(static_cast<size_t>(model_->output()->weight().size(0)), 0);
        if (s.clock().train_exp_counter == 0) return counts;
        for (int64_t y : memory_.labels()) ++counts[static_cast<size_t>(y)];
        return counts;
      });
  std::vector<std::shared_ptr<Plugin>> all{cwr_};
  if (ar1_.ewc_lambda != 0) {
    si_ = std::make_shared<SynapticIntelligencePlugin>(static_cast<float>(ar1_.ewc_lambda));
    all.push_back(si_);
  }
  all.insert(all.end(), plugins.begin(), plugins.end());
  set_plugins(std::move(all));
}

std::vector<std::string> AR1::frozen_parameter_names() const {
  std::vector<std::string> names;
  std::vector<std::string> layers;
  for (auto& [name, p] : model_->named_parameters()) {
    const std::string layer = layer_of(name);
    if (within(layer, ar1_.freeze_below_layer) || name == ar1_.freeze_below_layer) return names;
    names.push_back(name);
    if (layers.empty() || layers.back() != layer) layers.push_back(layer);
  }
  std::string known;
  for (const auto& l : layers) known += (known.empty() ? "" : ", ") + l;
  AR1_FAIL("[ar1] freeze_below_layer '", ar1_.freeze_below_layer,
           "' names no layer of the model (it names the first layer that stays trainable); "
           "layers are: ", known);
}

// ---------------------------------------------------------------- before an experience

void AR1::make_train_dataloader() {
  const bool first = clock().train_exp_counter == 0;
  plan_ = plan_replay(experience()->size(), ar1_.rm_sz, ar1_.train_mb_size, first);
  data::LoaderOptions o;
  o.batch_size = plan_.new_per_batch;
  o.shuffle = ar1_.shuffle;
  o.seed = rng_.next_u64();
  o.num_workers = options_.num_workers;
  dataloader_ = std::make_unique<data::DataLoader>(experience()->dataset, options_.train_pipeline, o);
}

std::vector<int64_t> AR1::choose_kept_positions(int64_t candidates) {
  return memory_.select(candidates, clock().train_exp_counter, rng_);
}

std::vector<int64_t> AR1::choose_memory_slots(int64_t count) {
  return memory_.slots_for(count, rng_);
}

void AR1::model_adaptation() {
  const bool first = clock().train_exp_counter == 0;
  // 1. lat_features in eval mode (its BatchReNorm layers use and keep their statistics),
  //    end_features and output in train mode.
  model_->train();
  model_->lat_features()->eval();
  if (!first) {
    freeze_lower_layers();
    apply_batch_renorm_schedule();
  }
  split_lower_network();
  latent_cache_.reset(ar1_.latent_cache && !frozen_part_->empty() &&
                      !options_.train_pipeline.is_random());
  mutable_options().train_epochs =
      first && ar1_.first_epochs > 0 ? ar1_.first_epochs : ar1_.train_epochs;
  // Pick now which of this experience's images will enter the memory (by position in the
  // first epoch), so only those latents are kept.
  keep_positions_ = choose_kept_positions(experience()->size());
  kept_indices_.assign(keep_positions_.size(), -1);
  kept_latents_.assign(keep_positions_.size(), Tensor());
  kept_labels_.assign(keep_positions_.size(), -1);
}

void AR1::freeze_lower_layers() {
  const std::vector<std::string> frozen = frozen_parameter_names();
  std::vector<std::string> norm_prefixes;
  for (auto& [name, bn] : nn::batch_renorm_layers(*model_)) norm_prefixes.push_back(name + ".");
  for (auto& [name, p] : model_->named_parameters()) {
    if (std::find(frozen.begin(), frozen.end(), name) == frozen.end()) continue;
    bool norm = false;
    for (const auto& prefix : norm_prefixes) norm = norm || name.rfind(prefix, 0) == 0;
    // Avalanche's filter_bn_and_brn keeps normalisation parameters trainable.
    if (norm && !ar1_.freeze_norm) continue;
    p.set_requires_grad(false);
    p.zero_grad();
  }
}

void AR1::apply_batch_renorm_schedule() {
  for (auto& [name, bn] : nn::batch_renorm_layers(*model_)) {
    bn->set_momentum(ar1_.inc_update_rate);
    bn->set_r_max(ar1_.max_r_max);
    bn->set_d_max(ar1_.max_d_max);
    bn->set_r_d_inc(0.0);
  }
}

void AR1::split_lower_network() {
  // The first layer of lat_features with a trainable parameter: below it no graph is needed.
  const auto& layers = model_->lat_features()->layers();
  int64_t k = 0;
  while (k < static_cast<int64_t>(layers.size())) {
    bool trainable = false;
    for (const Tensor& p : layers[static_cast<size_t>(k)]->parameters()) {
      trainable = trainable || p.requires_grad();
    }
    if (trainable) break;
    ++k;
  }
  frozen_part_ = model_->lat_features()->slice(0, k);
  trainable_part_ = model_->lat_features()->slice(k, static_cast<int64_t>(layers.size()));
}

void AR1::make_optimizer() {
  const bool first = clock().train_exp_counter == 0;
  nn::SGDOptions o{first ? (ar1_.first_lr > 0 ? ar1_.first_lr : ar1_.lr) : ar1_.inc_lr,
                   ar1_.momentum, ar1_.l2};
  // A fresh optimiser per experience (momentum buffers start at zero); graphs of the last one
  // would update its buffers.
  train_graphs_.clear();
  optimizer_ = std::make_unique<nn::SGD>(model_->named_parameters(), o);
}

// ---------------------------------------------------------------- training

Tensor AR1::latent_of(const Tensor& x) {
  if (frozen_part_->empty()) return x;
  Tensor h = latent_cache_.lookup(batch_.indices);
  if (!h.defined()) {
    NoGradGuard no_grad;
    h = frozen_part_->forward(x);
    latent_cache_.insert(batch_.indices, h);
  }
  return h;
}

bool AR1::graphs_allowed(bool training) const {
  if (!ar1_.cuda_graphs || !options_.device.is_cuda() || !plugins_graph_safe()) return false;
  if (!training) return true;
  for (auto& [name, bn] : nn::batch_renorm_layers(*model_)) {
    const auto& o = bn->options();
    const bool growing = o.r_d_inc != 0 && (o.r_max < o.max_r_max || o.d_max < o.max_d_max);
    if (bn->is_training() && growing) return false;  // its limits change every step
  }
  return true;
}

void AR1::training_epoch() {
  const bool first_epoch = clock().train_exp_epochs == 0;
  keep_rank_.clear();  // position in the first epoch -> slot in kept_*
  if (first_epoch) {
    for (size_t i = 0; i < keep_positions_.size(); ++i) keep_rank_[keep_positions_[i]] = i;
  }
  dataloader_->start_epoch(clock().train_exp_epochs);
  BatchPrefetcher batches(*dataloader_, options_.device);
  int64_t it = 0;
  position_ = 0;
  Tensor images, y;
  while (!stop_requested() && batches.next(batch_, images, y)) {
    // New images and the replayed latents of this iteration, each with its own label.
    Tensor replay_y;
    replay_x_ = Tensor();
    if (plan_.replay_per_batch > 0 && memory_.size() > 0) {
      std::vector<std::pair<int64_t, int64_t>> ranges{replay_rows(plan_, it, memory_.size())};
      if (ar1_.replay_wrap) ranges = replay_rows_wrapped(plan_, it, memory_.size());
      std::vector<Tensor> xs, ys;
      for (const auto& [begin, end] : ranges) {
        auto [rx, ry] = memory_.rows(begin, end);
        xs.push_back(rx);
        ys.push_back(ry);
      }
      replay_x_ = xs.size() == 1 ? xs[0] : Tensor::concat(xs);
      replay_y = ys.size() == 1 ? ys[0] : Tensor::concat(ys);
      replay_x_ = nn::to_device(replay_x_, options_.device);
      replay_y = nn::to_device(replay_y, options_.device);
    }
    mb_x = images;
    mb_y = replay_y.defined() && replay_y.numel() > 0 ? Tensor::concat({y, replay_y}) : y;
    mb_task_id = Tensor::zeros({mb_y.numel()}, DType::i64);
    step_h_ = latent_of(mb_x);
    training_iteration();
    position_ += batch_.labels.numel();
    ++it;
  }
  replay_x_ = step_h_ = step_lat_ = Tensor();
  // A label a replayed graph's cross-entropy found out of range fails the run here.
  if (train_graphs_.replays() > 0) kernels::check_deferred_errors(options_.device);
}

void AR1::training_step() {
  const Tensor h = step_h_, replay = replay_x_, y = mb_y;
  const std::vector<Tensor> out = train_graphs_.run(
      "train", {h, replay, y},
      [this](const std::vector<Tensor>& in) {
        step_h_ = in[0];
        replay_x_ = in[1];
        mb_y = in[2];
        SupervisedTemplate::training_step();
        return std::vector<Tensor>{mb_output, loss, step_lat_};
      },
      graphs_allowed(true));
  mb_output = out[0];
  loss = out[1];
  step_lat_ = out[2];
  step_h_ = h;
  replay_x_ = replay;
  mb_y = y;
  keep_latents(step_lat_);
}

void AR1::eval_forward() {
  // frozen_part_ exists once an experience has been trained (not in `ar1 eval` of a
  // checkpoint) and is empty in the first experience.
  const bool cache = ar1_.eval_latent_cache && frozen_part_ != nullptr &&
                     !frozen_part_->empty() && !options_.eval_pipeline.is_random() &&
                     experience() != nullptr;
  if (!cache) {
    mb_output = eval_graphs_.run(
        "eval", {mb_x},
        [this](const std::vector<Tensor>& in) { return std::vector<Tensor>{(*model_)(in[0])}; },
        graphs_allowed(false))[0];
    return;
  }
  if (eval_cache_layers_ != frozen_part_->size()) {  // another frozen prefix: start again
    eval_cache_.reset(true);
    eval_cache_datasets_.clear();
    eval_cache_layers_ = frozen_part_->size();
  }
  // Keys: the dataset's ordinal in the high bits, the image's index in the low ones.
  const data::DatasetPtr dataset = experience()->dataset;
  auto it = std::find(eval_cache_datasets_.begin(), eval_cache_datasets_.end(), dataset);
  if (it == eval_cache_datasets_.end()) it = eval_cache_datasets_.insert(it, dataset);
  const int64_t ordinal = it - eval_cache_datasets_.begin();
  std::vector<int64_t> keys = mb_indices;
  for (int64_t& k : keys) k += ordinal << 40;
  Tensor h = eval_cache_.lookup(keys);
  if (!h.defined()) {
    h = frozen_part_->forward(mb_x);
    eval_cache_.insert(keys, h);
  }
  mb_output = eval_graphs_.run(
      "eval_above_cache", {h},
      [this](const std::vector<Tensor>& in) {
        const Tensor u = trainable_part_->empty() ? in[0] : trainable_part_->forward(in[0]);
        return std::vector<Tensor>{model_->head(u)};
      },
      graphs_allowed(false))[0];
}

void AR1::eval_dataset_adaptation() {
  // Weights may have changed since the last evaluation (CWR*, a loaded checkpoint): graphs
  // read them in place, but their own inputs and plans are rebuilt per evaluated experience.
  eval_graphs_.clear();
}

void AR1::forward() {
  if (is_eval()) {
    eval_forward();
    return;
  }
  const Tensor lat = trainable_part_->empty() ? step_h_ : trainable_part_->forward(step_h_);
  step_lat_ = lat;
  const Tensor z =
      replay_x_.defined() && replay_x_.numel() > 0 ? Tensor::concat({lat, replay_x_}) : lat;
  mb_output = model_->head(z);
}

void AR1::keep_latents(const Tensor& lat) {
  if (keep_rank_.empty()) return;
  const Tensor lat_cpu = nn::to_device(lat.detach(), Device::cpu());
  for (int64_t r = 0; r < lat_cpu.size(0); ++r) {
    const auto found = keep_rank_.find(position_ + r);
    if (found == keep_rank_.end()) continue;
    kept_latents_[found->second] = lat_cpu.slice(r, r + 1).clone();
    kept_labels_[found->second] = batch_.labels.data<int64_t>()[r];
    kept_indices_[found->second] = batch_.indices[static_cast<size_t>(r)];
  }
}

// ---------------------------------------------------------------- after an experience

void AR1::refresh_kept_latents() {
  // Same images, final weights; lat_features is in eval mode, so no statistic changes.
  NoGradGuard no_grad;
  auto subset = data::make_subset(experience()->dataset, kept_indices_);
  data::LoaderOptions o;
  o.batch_size = ar1_.eval_mb_size;
  o.shuffle = false;
  o.num_workers = options_.num_workers;
  o.seed = rng_.next_u64();
  data::DataLoader loader(subset, options_.train_pipeline, o);
  loader.start_epoch(0);
  data::Batch batch;
  int64_t row = 0;
  while (loader.next(batch)) {
    const Tensor lat = nn::to_device(model_->lat_features()->forward(
                                         nn::to_device(batch.images, options_.device)),
                                     Device::cpu());
    for (int64_t r = 0; r < lat.size(0); ++r, ++row) {
      kept_latents_[static_cast<size_t>(row)] = lat.slice(r, r + 1).clone();
    }
  }
}

void AR1::finish_experience() {
  // 1. Replay memory: the kept (latent, label) pairs chosen before the first epoch.
  const bool complete = std::all_of(kept_latents_.begin(), kept_latents_.end(),
                                    [](const Tensor& t) { return t.defined(); });
  AR1_CHECK(complete || stop_requested(), "[ar1] internal: a chosen latent was never seen");
  if (!kept_latents_.empty() && complete) {
    if (ar1_.refresh_latents) refresh_kept_latents();
    const auto count = static_cast<int64_t>(kept_labels_.size());
    memory_.store_at(Tensor::concat(kept_latents_), Tensor::from_i64(kept_labels_, {count}),
                     choose_memory_slots(count));
  }
  kept_latents_.clear();
  kept_labels_.clear();
  kept_indices_.clear();
  latent_cache_.reset(false);  // its images are not seen again
  train_graphs_.clear();        // their memory, before evaluation and the next experience
  if (ar1_.recalibrate_norm && memory_.size() > 0 && !stop_requested()) {
    recalibrate_batch_renorm(*model_->end_features(),
                             nn::to_device(memory_.rows(0, memory_.size()).first, options_.device));
  }
  // 2. CWR* consolidation and 3. SI run next, as plugins' after_training_exp.
}

}  // namespace ar1::strategy
