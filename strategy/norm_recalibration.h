#pragma once
// BatchReNorm recalibration (AR1Options::recalibrate_norm): sets the running
// statistics of every BatchReNorm2d in `layers` to the exact statistics of `input` passed
// through them, layer by layer, as evaluation mode will see it.
//
// Why: above the latent layer the running statistics follow minibatches with momentum
// inc_update_rate while the weights move under them; on a long stream of small single-class
// experiences they end an experience out of step with the weights, and the evaluation
// accuracy dips by 10-20 points where the same weights with exact statistics do not.
//
// How: one training-mode forward of the whole input as a single batch, with momentum 1
// (running = batch statistics), r_max = 1 and d_max = 0 (each layer's output is then exactly
// its evaluation-mode output under the new statistics), no r/d growth; every setting and the
// training mode are restored afterwards. No graph is recorded.
#include "core/tensor.h"
#include "nn/module.h"

namespace ar1::strategy {

void recalibrate_batch_renorm(nn::Module& layers, const Tensor& input);

}  // namespace ar1::strategy
