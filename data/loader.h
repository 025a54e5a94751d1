#pragma once
// DataLoader: minibatches (f32 images [N, C, H, W] + i64 labels [N]) of a dataset, in an
// order reshuffled every epoch from (seed, epoch) alone.
//
// Decoding and transforms run on `num_workers` background threads, one whole batch per task,
// at most `prefetch_batches` batches ahead of the consumer: memory stays at about
// (prefetch_batches + 1) batches whatever the dataset size (CORe50's 165k frames included).
// Every sample's random transforms draw from their own Generator seeded from
// (seed, epoch, position in the epoch), so the same seed gives the same order and
// bit-identical batches for any number of threads.
//
// cache = true keeps each decoded u8 image after its first use (PNG/JPEG datasets that fit in
// memory: the decode is paid once); InMemoryDataset needs no cache.
//
//   DataLoader loader(dataset, standard_pipeline(32), {.batch_size = 128, .seed = 1});
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     loader.start_epoch(epoch);
//     Batch batch;
//     while (loader.next(batch)) train_step(batch.images, batch.labels);
//   }
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "data/transforms.h"

namespace ar1::data {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;     // false: dataset order every epoch
  bool drop_last = false;  // drop a last batch smaller than batch_size
  uint64_t seed = 0;
  int num_workers = 2;           // background threads; 0 builds batches on the caller's thread
  int64_t prefetch_batches = 4;  // batches claimed by workers and not yet consumed, at most
  bool cache = false;
};

struct Batch {
  Tensor images;                 // f32 [N, C, H, W]
  Tensor labels;                 // i64 [N]
  std::vector<int64_t> indices;  // dataset index of each row
  int64_t number = 0;            // position of the batch in its epoch
};

class DataLoader {
 public:
  DataLoader(DatasetPtr dataset, Pipeline pipeline, LoaderOptions options = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t num_batches() const;
  const Dataset& dataset() const { return *dataset_; }
  // The sample order of an epoch (dataset indices); a function of (seed, epoch) alone.
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  // Begins `epoch` (abandoning any unfinished one) and starts the workers.
  void start_epoch(int64_t epoch);
  // The next batch of the current epoch; false once the epoch is exhausted. Rethrows a
  // worker's error (e.g. an undecodable image) when its batch is reached.
  bool next(Batch& batch);

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  Batch build_batch(int64_t number) const;
  Image load(int64_t index) const;
  void worker_loop();
  void stop_workers();

  DatasetPtr dataset_;
  Pipeline pipeline_;
  LoaderOptions options_;
  // Decoded images by dataset index (cache option). Each index is touched by one thread per
  // epoch, and epochs are separated by joins, so slots need no lock.
  mutable std::vector<std::unique_ptr<const Image>> cache_;

  // Current epoch.
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;
  int64_t consumed_ = 0;  // batches handed out

  // Worker state, guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable work_cv_, ready_cv_;
  int64_t next_claim_ = 0;
  bool stop_ = false;
  std::map<int64_t, Slot> ready_;
  std::vector<std::thread> workers_;
};

}  // namespace ar1::data
