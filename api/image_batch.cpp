#include "api/image_batch.h"

#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace ar1::api {

namespace {
// At most 2^31 values a batch (8 GiB of floats): a larger count is a caller's mistake.
constexpr int64_t kMaxValues = int64_t{1} << 31;
}  // namespace

data::DatasetPtr to_dataset(const ar1_images* images, const int32_t* labels, int64_t num_classes) {
  AR1_CHECK(images != nullptr, "[ar1] images is NULL");
  const ar1_images& b = *images;
  // A C caller may store any int in the enum field; reading it as ar1_layout would be
  // undefined for values outside the enum's range, so its bytes are read as an int.
  std::underlying_type_t<ar1_layout> layout;
  static_assert(sizeof layout == sizeof b.layout);
  std::memcpy(&layout, &b.layout, sizeof layout);
  AR1_CHECK(layout == AR1_U8_HWC || layout == AR1_F32_CHW, "[ar1] images.layout is ",
            static_cast<int64_t>(layout), ": use AR1_U8_HWC (0) or AR1_F32_CHW (1)");
  AR1_CHECK(b.count >= 1, "[ar1] images.count is ", b.count, ": pass at least one image");
  AR1_CHECK(b.height >= 1 && b.width >= 1, "[ar1] images are ", b.height, "x", b.width,
            ": height and width must be positive");
  AR1_CHECK(b.channels == 1 || b.channels == 3, "[ar1] images.channels is ", b.channels,
            ": use 1 (grey) or 3 (RGB)");
  AR1_CHECK(b.height <= kMaxValues / b.width && b.height * b.width <= kMaxValues / b.count / b.channels,
            "[ar1] ", b.count, " images of ", b.height, "x", b.width, "x", b.channels,
            " are too many values for one call: pass fewer images at a time");
  AR1_CHECK(b.data != nullptr, "[ar1] images.data is NULL");
  const int64_t per_image = b.height * b.width * b.channels;
  std::vector<int64_t> targets(static_cast<size_t>(b.count), 0);
  if (labels != nullptr) {
    for (int64_t i = 0; i < b.count; ++i) {
      AR1_CHECK(labels[i] >= 0 && labels[i] < num_classes, "[ar1] labels[", i, "] is ",
                labels[i], ": labels lie in [0, ", num_classes, ") (the config's num_classes)");
      targets[static_cast<size_t>(i)] = labels[i];
    }
  }
  const std::string origin = "images";
  if (b.layout == AR1_U8_HWC) {
    const auto* p = static_cast<const uint8_t*>(b.data);
    return std::make_shared<const data::InMemoryDataset>(
        std::vector<uint8_t>(p, p + b.count * per_image), b.height, b.width, b.channels,
        std::move(targets), num_classes, origin);
  }
  const auto* p = static_cast<const float*>(b.data);
  return std::make_shared<const data::FloatInMemoryDataset>(
      std::vector<float>(p, p + b.count * per_image), b.channels, b.height, b.width,
      std::move(targets), num_classes, origin);
}

}  // namespace ar1::api
