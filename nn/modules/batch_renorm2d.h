#pragma once
// BatchReNorm2d (SPEC.md section 2): parameters "gamma" (ones) and "beta" (zeros), buffers
// "running_mean" (zeros) and "running_std" (ones). Training mode normalises with the batch
// statistics and updates the running ones; evaluation mode uses the running ones.
//
// After every training forward of a batch of N: if r_max < max_r_max then r_max += r_d_inc * N,
// and likewise d_max (no clamp to the cap, as SPEC.md says). AR1 sets r_max / d_max to the caps
// and r_d_inc to 0 from the second experience on.
#include "nn/functional.h"
#include "nn/module.h"

namespace ar1::nn {

struct BatchReNormOptions {
  double momentum = 0.01;  // running-statistics update rate (AR1's init_update_rate)
  double r_max = 1.0;      // fresh layer: r clipped to 1 (plain batch norm) ...
  double d_max = 0.0;      // ... and no shift
  double r_d_inc = 4.1e-5;  // per-sample step of r_max and d_max (AR1's inc_step)
  double max_r_max = 1.25;
  double max_d_max = 0.5;
  double eps = 1e-5;
  bool fuse_relu = false;  // apply the following ReLU inside the same op
};

class BatchReNorm2d : public Module {
 public:
  explicit BatchReNorm2d(int64_t channels, const BatchReNormOptions& options = {});
  std::string type_name() const override { return "BatchReNorm2d"; }
  Tensor forward(const Tensor& x) override;

  int64_t channels() const { return gamma_.numel(); }
  const Tensor& gamma() const { return gamma_; }
  const Tensor& beta() const { return beta_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_std() const { return running_std_; }

  const BatchReNormOptions& options() const { return options_; }
  double momentum() const { return options_.momentum; }
  double r_max() const { return options_.r_max; }
  double d_max() const { return options_.d_max; }
  double r_d_inc() const { return options_.r_d_inc; }
  void set_momentum(double m) { options_.momentum = m; }
  void set_r_max(double v) { options_.r_max = v; }
  void set_d_max(double v) { options_.d_max = v; }
  void set_r_d_inc(double v) { options_.r_d_inc = v; }
  void set_max_r_max(double v) { options_.max_r_max = v; }
  void set_max_d_max(double v) { options_.max_d_max = v; }
  void set_fuse_relu(bool on) { options_.fuse_relu = on; }

 private:
  BatchReNormOptions options_;
  Tensor gamma_, beta_, running_mean_, running_std_;
};

}  // namespace ar1::nn
