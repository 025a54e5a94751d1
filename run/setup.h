#pragma once
// From resolved `ar1 train` options to the run's pieces: the benchmark (dataset + scenario),
// the model, the AR1 options. Every missing or malformed input is an ar1::Error that names
// the thing and the fix.
#include <memory>

#include "data/scenario.h"
#include "nn/models/mobilenet_v1.h"
#include "strategy/ar1.h"
#include "run/options.h"

namespace ar1::run {

// The dataset's usual place when --data-root is empty.
std::string default_data_root(const std::string& dataset);

data::Benchmark make_benchmark(const ResolvedOptions& o);
data::Pipeline make_pipeline(const ResolvedOptions& o);
std::shared_ptr<nn::MobileNetV1> make_model(const ResolvedOptions& o, int64_t num_classes);
strategy::AR1Options make_ar1_options(const ResolvedOptions& o);
Device parse_device(const ResolvedOptions& o);  // checks that the device can be used

}  // namespace ar1::run
