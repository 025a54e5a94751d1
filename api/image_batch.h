#pragma once
// The C API's image batches (ar1_images) as datasets the loader reads: a copy, so the
// caller's buffer is borrowed only for the call. Every bad field is an error naming it.
#include <cstdint>

#include "ar1/ar1.h"
#include "data/dataset.h"

namespace ar1::api {

// labels: count entries in [0, num_classes), or nullptr (prediction: every target 0).
data::DatasetPtr to_dataset(const ar1_images* images, const int32_t* labels, int64_t num_classes);

}  // namespace ar1::api
