#include "data/loader.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/rng.h"

namespace ar1::data {

namespace {
// A well-mixed 64-bit value of (a, b): splitmix64's finaliser over a combination.
uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
constexpr uint64_t kOrderStream = 0x6f72646572ull;   // "order"
constexpr uint64_t kSampleStream = 0x73616d706cull;  // "sampl"
}  // namespace

DataLoader::DataLoader(DatasetPtr dataset, Pipeline pipeline, LoaderOptions options)
    : dataset_(std::move(dataset)), pipeline_(std::move(pipeline)), options_(options) {
  AR1_CHECK(dataset_ != nullptr, "[loader] expected a dataset, got null");
  AR1_CHECK(options_.batch_size > 0, "[loader] batch_size must be positive, got ",
            options_.batch_size);
  AR1_CHECK(options_.num_workers >= 0, "[loader] num_workers must be >= 0, got ",
            options_.num_workers);
  AR1_CHECK(options_.prefetch_batches >= 1, "[loader] prefetch_batches must be >= 1, got ",
            options_.prefetch_batches);
  if (options_.cache) cache_.resize(static_cast<size_t>(dataset_->size()));
}

DataLoader::~DataLoader() { stop_workers(); }

int64_t DataLoader::num_batches() const {
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  if (!options_.shuffle) {
    std::vector<int64_t> order(static_cast<size_t>(dataset_->size()));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    return order;
  }
  Generator gen(mix(mix(options_.seed, kOrderStream), static_cast<uint64_t>(epoch)));
  return randperm(dataset_->size(), gen);
}

Image DataLoader::load(int64_t index) const {
  if (!options_.cache) return dataset_->image(index);
  auto& slot = cache_[static_cast<size_t>(index)];
  if (!slot) slot = std::make_unique<const Image>(dataset_->image(index));
  return *slot;
}

Batch DataLoader::build_batch(int64_t number) const {
  const int64_t begin = number * options_.batch_size;
  const int64_t end = std::min<int64_t>(begin + options_.batch_size, dataset_->size());
  const int64_t n = end - begin;
  Batch batch;
  batch.number = number;
  batch.indices.assign(order_.begin() + begin, order_.begin() + end);
  batch.labels = Tensor::empty({n}, DType::i64);
  int64_t* labels = batch.labels.data<int64_t>();
  float* out = nullptr;
  int64_t c = 0, h = 0, w = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t index = batch.indices[static_cast<size_t>(i)];
    Generator gen(mix(mix(mix(options_.seed, kSampleStream), static_cast<uint64_t>(epoch_)),
                      static_cast<uint64_t>(begin + i)));
    std::optional<FloatImage> planar = dataset_->float_image(index);
    const FloatImage img = planar ? pipeline_.transform(std::move(*planar), gen)
                                  : pipeline_(load(index), gen);
    if (i == 0) {
      c = img.channels, h = img.height, w = img.width;
      batch.images = Tensor::empty({n, c, h, w}, DType::f32);
      out = batch.images.data<float>();
    }
    AR1_CHECK(img.channels == c && img.height == h && img.width == w, "[loader] ",
              dataset_->source(index), " becomes ", img.channels, "x", img.height, "x", img.width,
              " after the transforms, expected ", c, "x", h, "x", w,
              " like the rest of its batch; add resize() (and grey_to_rgb()) to the pipeline");
    std::memcpy(out + i * c * h * w, img.values.data(), img.values.size() * sizeof(float));
    labels[i] = dataset_->targets()[static_cast<size_t>(index)];
  }
  return batch;
}

void DataLoader::worker_loop() {
  for (;;) {
    int64_t number;
    {
      std::unique_lock lock(mutex_);
      work_cv_.wait(lock, [&] {
        return stop_ || next_claim_ >= num_batches() ||
               next_claim_ < consumed_ + options_.prefetch_batches;
      });
      if (stop_ || next_claim_ >= num_batches()) return;
      number = next_claim_++;
    }
    Slot slot;
    try {
      slot.batch = build_batch(number);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      ready_.emplace(number, std::move(slot));
    }
    ready_cv_.notify_all();
  }
}

void DataLoader::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  ready_.clear();
  stop_ = false;
}

void DataLoader::start_epoch(int64_t epoch) {
  AR1_CHECK(epoch >= 0, "[loader] epoch must be >= 0, got ", epoch);
  stop_workers();
  epoch_ = epoch;
  order_ = epoch_order(epoch);
  consumed_ = 0;
  next_claim_ = 0;
  for (int i = 0; i < options_.num_workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

bool DataLoader::next(Batch& batch) {
  AR1_CHECK(epoch_ >= 0, "[loader] next() called before start_epoch(); call start_epoch(e) first");
  if (consumed_ >= num_batches()) {
    stop_workers();
    return false;
  }
  if (workers_.empty()) {
    batch = build_batch(consumed_++);
    return true;
  }
  Slot slot;
  {
    std::unique_lock lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(consumed_) > 0; });
    auto it = ready_.find(consumed_);
    slot = std::move(it->second);
    ready_.erase(it);
    ++consumed_;
  }
  work_cv_.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  batch = std::move(slot.batch);
  return true;
}

}  // namespace ar1::data
