// The C API (api/include/ar1/ar1.h) over strategy::AR1: every entry point runs its body
// inside `guarded`, which turns each exception into a status and the thread's last error.
#include "ar1/ar1.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <numeric>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/image_batch.h"
#include "core/error.h"
#include "core/grad_mode.h"
#include "core/portable_math.h"
#include "data/image_decode.h"
#include "kernels/cpu_kernels.h"
#include "kernels/device.h"
#include "kernels/precision.h"
#include "kernels/threading.h"
#include "nn/functional.h"
#include "run/setup.h"
#include "run/train_options.h"
#include "strategy/checkpoint.h"
#include "strategy/metrics/evaluation_plugin.h"
#include "strategy/metrics/standard_metrics.h"
#include "strategy/nonfinite_guard.h"

#ifndef AR1_VERSION
#define AR1_VERSION "unknown"
#endif

using namespace ar1;

struct ar1_benchmark {
  data::Benchmark benchmark;
};

struct ar1_strategy {
  ar1_strategy(run::ResolvedOptions o, int64_t classes)
      : options(std::move(o)), num_classes(classes) {}

  run::ResolvedOptions options;
  int64_t num_classes;
  int64_t experiences = 0;
  std::shared_ptr<nn::MobileNetV1> model;
  std::shared_ptr<strategy::EvaluationPlugin> evaluator;
  std::unique_ptr<strategy::AR1> ar1;
  mutable std::mutex mutex;  // one call at a time on a strategy
};

namespace {

constexpr const char* kStream = "test_stream";
constexpr const char* kFormatKey = "ar1_c_api";  // marks checkpoints ar1_save wrote

thread_local std::string last_error;

// An error with the status it maps to; ar1::Error from below the API is AR1_ERROR_RUNTIME.
struct ApiError : std::runtime_error {
  ApiError(ar1_status s, const std::string& message) : std::runtime_error(message), status(s) {}
  ar1_status status;
};

template <class Body>
ar1_status guarded(Body&& body) {
  try {
    body();
    return AR1_OK;
  } catch (const ApiError& e) {
    last_error = e.what();
    return e.status;
  } catch (const std::bad_alloc&) {
    last_error = "[ar1] out of memory: use smaller batches, a smaller image_size or alpha, or "
                 "a smaller rm_sz";
    return AR1_ERROR_OUT_OF_MEMORY;
  } catch (const Error& e) {
    last_error = e.what();
    return AR1_ERROR_RUNTIME;
  } catch (const std::exception& e) {
    last_error = std::string("[ar1] internal error: ") + e.what();
    return AR1_ERROR_INTERNAL;
  } catch (...) {
    last_error = "[ar1] internal error: an unknown exception";
    return AR1_ERROR_INTERNAL;
  }
}

template <class T>
void require_pointer(const T* p, const char* what) {
  if (p == nullptr) throw ApiError(AR1_ERROR_INVALID_ARGUMENT, std::string("[ar1] ") + what + " is NULL");
}

// Runs `step` and reports any ar1::Error it throws with `status` instead of RUNTIME.
template <class Step>
void as_status(ar1_status status, Step&& step) {
  try {
    step();
  } catch (const ApiError&) {
    throw;
  } catch (const Error& e) {
    throw ApiError(status, e.what());
  }
}

// A config text as a JSON object; `what` names it in errors, `example` shows one.
nlohmann::json json_object(const char* json_text, const std::string& what, const char* example) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw ApiError(AR1_ERROR_CONFIG, "[ar1] the " + what + " is not valid JSON: " + e.what());
  }
  if (!config.is_object()) {
    throw ApiError(AR1_ERROR_CONFIG, "[ar1] the " + what + " must be a JSON object, e.g. " + example);
  }
  return config;
}

// The config's options: `ar1 train`'s table under the JSON's values (num_classes taken out).
run::ResolvedOptions parse_config(const char* json_text, int64_t& num_classes) {
  nlohmann::json config = json_object(json_text, "config", "{\"num_classes\": 10}");
  const auto classes = config.find("num_classes");
  if (classes == config.end() || !classes->is_number_integer() || classes->get<int64_t>() < 2) {
    throw ApiError(AR1_ERROR_CONFIG, "[ar1] the config needs \"num_classes\": an integer >= 2 "
                                     "(the classes the strategy can learn)");
  }
  num_classes = classes->get<int64_t>();
  config.erase("num_classes");
  run::ResolvedOptions options(run::train_options());
  as_status(AR1_ERROR_CONFIG, [&] { run::apply_config_text(options, config.dump(), "config"); });
  options.set("weights", std::string());  // no file paths from an embedder's config
  return options;
}

// Builds the model and the strategy; process-wide settings only where the config names them.
std::unique_ptr<ar1_strategy> build(run::ResolvedOptions options, int64_t num_classes) {
  auto s = std::make_unique<ar1_strategy>(std::move(options), num_classes);
  const run::ResolvedOptions& o = s->options;
  as_status(AR1_ERROR_CONFIG, [&] {
    if (o.origin("threads") != run::Origin::Default) {
      kernels::set_num_threads(static_cast<int>(o.integer("threads")));
    }
    if (o.origin("precision") != run::Origin::Default) {
      kernels::set_conv_precision(kernels::parse_precision(o.str("precision")));
    }
    if (o.origin("cpu-kernels") != run::Origin::Default) {
      kernels::set_cpu_kernels(kernels::parse_cpu_kernels(o.str("cpu-kernels")));
    }
    // The set this strategy runs on, whoever chose it, is what ar1_save records.
    s->options.set("cpu-kernels", std::string(kernels::cpu_kernels_name(kernels::cpu_kernels())));
    strategy::AR1Options a = run::make_ar1_options(o);
    // Each evaluation here is of a new batch: a cache keyed by dataset would only grow.
    a.eval_latent_cache = false;
    s->model = run::make_model(o, num_classes);
    // Only what ar1_evaluate reads, and only its last values: a strategy embedded in a product
    // learns for months, and a history (or a metric per experience) would grow all along.
    s->evaluator = std::make_shared<strategy::EvaluationPlugin>(
        std::vector<std::shared_ptr<strategy::Metric>>{
            std::make_shared<strategy::AccuracyLossMetrics>()},
        std::vector<std::shared_ptr<strategy::Logger>>{}, strategy::MetricHistory::last_only);
    std::vector<std::shared_ptr<strategy::Plugin>> plugins{
        std::make_shared<strategy::NonFiniteGuard>(
            strategy::parse_nonfinite_policy(o.str("on-nonfinite")))};
    s->ar1 = std::make_unique<strategy::AR1>(s->model, a, plugins, s->evaluator);
  });
  return s;
}

// A batch's copy as a dataset; its faults are the caller's (INVALID_ARGUMENT).
data::DatasetPtr batch_dataset(const ar1_images* images, const int32_t* labels,
                               int64_t num_classes) {
  data::DatasetPtr dataset;
  as_status(AR1_ERROR_INVALID_ARGUMENT,
            [&] { dataset = api::to_dataset(images, labels, num_classes); });
  return dataset;
}

data::Experience whole_experience(int64_t index, const data::DatasetPtr& dataset) {
  std::vector<int64_t> all(static_cast<size_t>(dataset->size()));
  std::iota(all.begin(), all.end(), int64_t{0});
  return data::make_experience(index, dataset, std::move(all));
}

// Logits [count, num_classes] of every image, in order, in evaluation mode.
std::vector<float> logits_of(ar1_strategy& s, const data::DatasetPtr& dataset) {
  const strategy::AR1Options& a = s.ar1->ar1_options();
  NoGradGuard no_grad;
  s.model->eval();
  data::LoaderOptions lo;
  lo.batch_size = a.eval_mb_size;
  lo.shuffle = false;
  lo.num_workers = a.num_workers;
  data::DataLoader loader(dataset, a.eval_pipeline, lo);
  loader.start_epoch(0);
  std::vector<float> logits;
  logits.reserve(static_cast<size_t>(dataset->size() * s.num_classes));
  data::Batch batch;
  while (loader.next(batch)) {
    const Tensor out = nn::to_device((*s.model)(nn::to_device(batch.images, a.device)),
                                     Device::cpu()).contiguous();
    logits.insert(logits.end(), out.data<float>(), out.data<float>() + out.numel());
  }
  return logits;
}

const data::Experience& experience_of(const ar1_benchmark* b, int32_t stream, int64_t k) {
  require_pointer(b, "benchmark");
  const int32_t s = stream;
  if (s != AR1_TRAIN_STREAM && s != AR1_TEST_STREAM) {
    throw ApiError(AR1_ERROR_INVALID_ARGUMENT, "[ar1] stream is " + std::to_string(s) +
                                                   ": pass AR1_TRAIN_STREAM or AR1_TEST_STREAM");
  }
  const auto& experiences = s == AR1_TRAIN_STREAM ? b->benchmark.train_stream : b->benchmark.test_stream;
  if (k < 0 || k >= static_cast<int64_t>(experiences.size())) {
    throw ApiError(AR1_ERROR_INVALID_ARGUMENT,
                   "[ar1] experience " + std::to_string(k) + " does not exist: the " +
                       (s == AR1_TRAIN_STREAM ? "train" : "test") + " stream has " +
                       std::to_string(experiences.size()) + " (0 to n - 1)");
  }
  return experiences[static_cast<size_t>(k)];
}

}  // namespace

extern "C" {

const char* ar1_version(void) { return AR1_VERSION; }

const char* ar1_last_error(void) { return last_error.c_str(); }

ar1_status ar1_create(const char* config_json, ar1_strategy** out) {
  return guarded([&] {
    require_pointer(config_json, "config_json");
    require_pointer(out, "out");
    int64_t num_classes = 0;
    run::ResolvedOptions options = parse_config(config_json, num_classes);
    *out = build(std::move(options), num_classes).release();
  });
}

void ar1_destroy(ar1_strategy* strategy) { delete strategy; }

ar1_status ar1_train(ar1_strategy* strategy, const ar1_images* images, const int32_t* labels) {
  return guarded([&] {
    require_pointer(strategy, "strategy");
    require_pointer(labels, "labels");
    std::lock_guard lock(strategy->mutex);
    const data::DatasetPtr dataset = batch_dataset(images, labels, strategy->num_classes);
    strategy->ar1->train(whole_experience(strategy->experiences, dataset));
    ++strategy->experiences;
  });
}

ar1_status ar1_predict_logits(ar1_strategy* strategy, const ar1_images* images, float* logits) {
  return guarded([&] {
    require_pointer(strategy, "strategy");
    require_pointer(logits, "logits");
    std::lock_guard lock(strategy->mutex);
    const std::vector<float> all =
        logits_of(*strategy, batch_dataset(images, nullptr, strategy->num_classes));
    std::copy(all.begin(), all.end(), logits);
  });
}

ar1_status ar1_predict_topk(ar1_strategy* strategy, const ar1_images* images, int32_t k,
                            int32_t* classes, float* probabilities) {
  return guarded([&] {
    require_pointer(strategy, "strategy");
    require_pointer(classes, "classes");
    require_pointer(probabilities, "probabilities");
    std::lock_guard lock(strategy->mutex);
    const int64_t c = strategy->num_classes;
    if (k < 1 || k > c) {
      throw ApiError(AR1_ERROR_INVALID_ARGUMENT, "[ar1] k is " + std::to_string(k) +
                                                     ": ask for 1 to " + std::to_string(c) +
                                                     " classes (num_classes)");
    }
    const std::vector<float> all =
        logits_of(*strategy, batch_dataset(images, nullptr, c));
    const int64_t n = static_cast<int64_t>(all.size()) / c;
    std::vector<int32_t> order(static_cast<size_t>(c));
    std::vector<double> p(static_cast<size_t>(c));
    for (int64_t i = 0; i < n; ++i) {
      const float* row = all.data() + i * c;
      const float top = *std::max_element(row, row + c);
      double sum = 0;
      for (int64_t j = 0; j < c; ++j) {
        sum += p[static_cast<size_t>(j)] = portable_math::exp(double(row[j]) - top);
      }
      std::iota(order.begin(), order.end(), 0);
      // Ties go to the lower class, as argmax does.
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
      });
      for (int32_t r = 0; r < k; ++r) {
        classes[i * k + r] = order[static_cast<size_t>(r)];
        probabilities[i * k + r] = static_cast<float>(p[static_cast<size_t>(order[static_cast<size_t>(r)])] / sum);
      }
    }
  });
}

ar1_status ar1_evaluate(ar1_strategy* strategy, const ar1_images* images, const int32_t* labels,
                        double* accuracy, double* loss) {
  return guarded([&] {
    require_pointer(strategy, "strategy");
    require_pointer(labels, "labels");
    std::lock_guard lock(strategy->mutex);
    const data::DatasetPtr dataset = batch_dataset(images, labels, strategy->num_classes);
    const auto metrics = strategy->ar1->eval({whole_experience(0, dataset)}, kStream);
    const auto read = [&](const char* name) {
      const auto it = metrics.find(strategy::metric_name(name, true, kStream));
      if (it == metrics.end()) throw ApiError(AR1_ERROR_INTERNAL, std::string("[ar1] no ") + name + " after evaluation");
      return it->second;
    };
    const double acc = read("Top1_Acc_Stream"), mean_loss = read("Loss_Stream");
    if (accuracy != nullptr) *accuracy = acc;
    if (loss != nullptr) *loss = mean_loss;
  });
}

ar1_status ar1_num_classes(const ar1_strategy* strategy, int64_t* out) {
  return guarded([&] {
    require_pointer(strategy, "strategy");
    require_pointer(out, "out");
    *out = strategy->num_classes;
  });
}

ar1_status ar1_experiences_trained(const ar1_strategy* strategy, int64_t* out) {
  return guarded([&] {
    require_pointer(strategy, "strategy");
    require_pointer(out, "out");
    std::lock_guard lock(strategy->mutex);
    *out = strategy->experiences;
  });
}

ar1_status ar1_save(ar1_strategy* strategy, const char* path) {
  return guarded([&] {
    require_pointer(strategy, "strategy");
    require_pointer(path, "path");
    std::lock_guard lock(strategy->mutex);
    as_status(AR1_ERROR_IO, [&] {
      strategy::save_checkpoint(path, *strategy->ar1,
                                {{"config", strategy->options.to_json()},
                                 {kFormatKey, "1"},
                                 {"num_classes", std::to_string(strategy->num_classes)},
                                 {"next_experience", std::to_string(strategy->experiences)}});
    });
  });
}

ar1_status ar1_load(const char* path, ar1_strategy** out) {
  return guarded([&] {
    require_pointer(path, "path");
    require_pointer(out, "out");
    strategy::CheckpointMetadata meta;
    as_status(AR1_ERROR_IO, [&] {
      AR1_CHECK(std::filesystem::exists(path), "[ar1] checkpoint ", path, " does not exist");
      meta = strategy::read_checkpoint_metadata(path);
      AR1_CHECK(meta.count(kFormatKey) && meta.count("config") && meta.count("num_classes"),
                "[ar1] ", path, " was not written by ar1_save (an `ar1 train` checkpoint "
                "lacks num_classes): save the strategy with ar1_save");
    });
    run::ResolvedOptions options(run::train_options());
    as_status(AR1_ERROR_CONFIG, [&] {
      run::apply_config_text(options, meta.at("config"), std::string("the config in ") + path);
      // Saved on oneDNN, loaded where there is none: the portable set (other bits from here).
      if (!kernels::built_with_onednn() && options.str("cpu-kernels") == "onednn") {
        options.set("cpu-kernels", std::string("portable"));
      }
    });
    std::unique_ptr<ar1_strategy> s = build(std::move(options), std::stoll(meta.at("num_classes")));
    as_status(AR1_ERROR_IO, [&] { strategy::load_checkpoint(path, *s->ar1); });
    s->experiences = std::stoll(meta.at("next_experience"));
    *out = s.release();
  });
}

ar1_status ar1_read_image(const char* path, uint8_t** pixels, int64_t* height, int64_t* width,
                          int64_t* channels) {
  return guarded([&] {
    require_pointer(path, "path");
    require_pointer(pixels, "pixels");
    require_pointer(height, "height");
    require_pointer(width, "width");
    require_pointer(channels, "channels");
    data::Image image;
    as_status(AR1_ERROR_IO, [&] { image = data::decode_image_file(path); });
    auto* copy = static_cast<uint8_t*>(std::malloc(image.pixels.size()));
    if (copy == nullptr) throw std::bad_alloc();
    std::memcpy(copy, image.pixels.data(), image.pixels.size());
    *pixels = copy;
    *height = image.height, *width = image.width, *channels = image.channels;
  });
}

void ar1_free(void* memory) { std::free(memory); }

// ---------------------------------------------------------------- benchmarks

ar1_status ar1_benchmark_create(const char* config_json, ar1_benchmark** out) {
  return guarded([&] {
    require_pointer(config_json, "config_json");
    require_pointer(out, "out");
    run::ResolvedOptions options(run::train_options());
    as_status(AR1_ERROR_CONFIG, [&] {
      nlohmann::json config = json_object(config_json, "benchmark config",
                                          "{\"dataset\": \"fashion-mnist\", \"scenario\": \"nc\"}");
      config.erase("num_classes");  // ar1_create's key: one config may serve both
      run::apply_config_text(options, config.dump(), "benchmark config");
    });
    auto b = std::make_unique<ar1_benchmark>();
    // A missing dataset or an impossible split: the config's fault.
    as_status(AR1_ERROR_CONFIG, [&] { b->benchmark = run::make_benchmark(options); });
    *out = b.release();
  });
}

void ar1_benchmark_destroy(ar1_benchmark* benchmark) { delete benchmark; }


ar1_status ar1_benchmark_num_classes(const ar1_benchmark* benchmark, int64_t* out) {
  return guarded([&] {
    require_pointer(benchmark, "benchmark");
    require_pointer(out, "out");
    *out = benchmark->benchmark.num_classes;
  });
}

ar1_status ar1_benchmark_num_experiences(const ar1_benchmark* benchmark, int32_t stream,
                                         int64_t* out) {
  return guarded([&] {
    require_pointer(benchmark, "benchmark");
    require_pointer(out, "out");
    const int32_t s = stream;
    if (s != AR1_TRAIN_STREAM && s != AR1_TEST_STREAM) {
      throw ApiError(AR1_ERROR_INVALID_ARGUMENT, "[ar1] stream is " + std::to_string(s) +
                                                     ": pass AR1_TRAIN_STREAM or AR1_TEST_STREAM");
    }
    *out = static_cast<int64_t>(s == AR1_TRAIN_STREAM ? benchmark->benchmark.train_stream.size()
                                                      : benchmark->benchmark.test_stream.size());
  });
}

ar1_status ar1_benchmark_experience_shape(const ar1_benchmark* benchmark, int32_t stream,
                                          int64_t k, int64_t* count, int64_t* height,
                                          int64_t* width, int64_t* channels) {
  return guarded([&] {
    require_pointer(count, "count");
    require_pointer(height, "height");
    require_pointer(width, "width");
    require_pointer(channels, "channels");
    const data::Experience& e = experience_of(benchmark, stream, k);
    int64_t h = 0, w = 0, c = 0;
    as_status(AR1_ERROR_IO, [&] {
      for (int64_t i = 0; i < e.size(); ++i) {
        const data::Image im = e.dataset->image(i);
        if (i == 0) h = im.height, w = im.width, c = im.channels;
        AR1_CHECK(im.height == h && im.width == w && im.channels == c, "[ar1] ",
                  e.dataset->source(i), " is ", im.height, " x ", im.width, " x ", im.channels,
                  " but the experience's first image is ", h, " x ", w, " x ", c,
                  ": an experience is copied out as one array of one image size");
      }
    });
    *count = e.size(), *height = h, *width = w, *channels = c;
  });
}

ar1_status ar1_benchmark_experience(const ar1_benchmark* benchmark, int32_t stream, int64_t k,
                                    uint8_t* pixels, int32_t* labels) {
  return guarded([&] {
    const data::Experience& e = experience_of(benchmark, stream, k);
    as_status(AR1_ERROR_IO, [&] {
      size_t at = 0, first = 0;
      for (int64_t i = 0; i < e.size(); ++i) {
        if (labels != nullptr) labels[i] = static_cast<int32_t>(e.targets()[static_cast<size_t>(i)]);
        if (pixels == nullptr) continue;
        const data::Image im = e.dataset->image(i);
        if (i == 0) first = im.pixels.size();
        AR1_CHECK(im.pixels.size() == first, "[ar1] ", e.dataset->source(i),
                  " is not of the experience's image size (see ar1_benchmark_experience_shape)");
        std::memcpy(pixels + at, im.pixels.data(), im.pixels.size());
        at += im.pixels.size();
      }
    });
  });
}

}  // extern "C"
