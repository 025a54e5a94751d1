#include "strategy/batch_prefetcher.h"

#include "kernels/device_runtime.h"

namespace ar1::strategy {

BatchPrefetcher::~BatchPrefetcher() {
  if (!have_ || device_.is_cpu()) return;
  try {
    kernels::join_uploads(device_);
  } catch (...) {  // a destructor: the device is already failing
  }
}

void BatchPrefetcher::fetch() {
  have_ = loader_.next(batch_);
  if (!have_) return;
  images_ = kernels::upload_tensor_async(batch_.images, device_);
  labels_ = kernels::upload_tensor_async(batch_.labels, device_);
}

bool BatchPrefetcher::next(data::Batch& batch, Tensor& images, Tensor& labels) {
  if (device_.is_cpu()) {  // nothing to overlap
    if (!loader_.next(batch)) return false;
    images = batch.images;
    labels = batch.labels;
    return true;
  }
  if (!started_) {
    fetch();
    started_ = true;
  }
  if (!have_) return false;
  // This batch's uploads before the work that reads them, then the next batch's beside it.
  kernels::join_uploads(device_);
  batch = std::move(batch_);
  images = std::move(images_);
  labels = std::move(labels_);
  fetch();
  return true;
}

}  // namespace ar1::strategy
