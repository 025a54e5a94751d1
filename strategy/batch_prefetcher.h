#pragma once
// A loader read one batch ahead. On a GPU each batch's images and labels are uploaded on the
// device's copy stream as soon as the previous batch is handed out, so the transfer runs while
// that batch's step runs; next() orders the uploads before the step that uses them. On the CPU
// it hands batches out as the loader makes them.
#include "data/loader.h"

namespace ar1::strategy {

class BatchPrefetcher {
 public:
  BatchPrefetcher(data::DataLoader& loader, Device device) : loader_(loader), device_(device) {}
  // A batch still uploading (the loop ended early) must land before its blocks are reused.
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next batch, with its images and labels on the device; false at the end of the epoch.
  bool next(data::Batch& batch, Tensor& images, Tensor& labels);

 private:
  void fetch();
  data::DataLoader& loader_;
  Device device_;
  bool started_ = false, have_ = false;
  data::Batch batch_;
  Tensor images_, labels_;
};

}  // namespace ar1::strategy
