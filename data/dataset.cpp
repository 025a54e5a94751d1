#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "data/image_decode.h"

namespace ar1::data {

Dataset::Dataset(std::vector<int64_t> targets, int64_t num_classes, const std::string& origin)
    : targets_(std::move(targets)), num_classes_(num_classes) {
  AR1_CHECK(num_classes_ > 0, "[dataset] ", origin, ": expected a positive number of classes, got ",
            num_classes_);
  for (size_t i = 0; i < targets_.size(); ++i) {
    AR1_CHECK(targets_[i] >= 0 && targets_[i] < num_classes_, "[dataset] ", origin, ": item ", i,
              " has label ", targets_[i], ", expected a label in [0, ", num_classes_,
              "); fix the labels or pass the right number of classes");
  }
}

void Dataset::check_index(int64_t i) const {
  AR1_CHECK(i >= 0 && i < size(), "[dataset] index ", i, " out of range: the dataset has ", size(),
            " items");
}

int64_t Dataset::target(int64_t i) const {
  check_index(i);
  return targets_[static_cast<size_t>(i)];
}

// ---- InMemoryDataset ----

InMemoryDataset::InMemoryDataset(std::vector<uint8_t> pixels, int64_t height, int64_t width,
                                 int64_t channels, std::vector<int64_t> targets,
                                 int64_t num_classes, std::string origin)
    : Dataset(std::move(targets), num_classes, origin),
      pixels_(std::move(pixels)),
      height_(height),
      width_(width),
      channels_(channels),
      origin_(std::move(origin)) {
  AR1_CHECK(height_ > 0 && width_ > 0 && (channels_ == 1 || channels_ == 3), "[dataset] ",
            origin_, ": expected a positive size and 1 or 3 channels, got ", height_, "x", width_,
            "x", channels_);
  const auto want = static_cast<size_t>(size() * height_ * width_ * channels_);
  AR1_CHECK(pixels_.size() == want, "[dataset] ", origin_, ": expected ", want,
            " pixel bytes for ", size(), " images of ", height_, "x", width_, "x", channels_,
            ", got ", pixels_.size());
}

const uint8_t* InMemoryDataset::pixels(int64_t i) const {
  check_index(i);
  return pixels_.data() + i * height_ * width_ * channels_;
}

Image InMemoryDataset::image(int64_t i) const {
  const uint8_t* p = pixels(i);
  Image img{height_, width_, channels_, {}};
  img.pixels.assign(p, p + img.numel());
  return img;
}

std::string InMemoryDataset::source(int64_t i) const {
  return origin_ + " #" + std::to_string(i);
}

// ---- FloatInMemoryDataset ----

FloatInMemoryDataset::FloatInMemoryDataset(std::vector<float> values, int64_t channels,
                                           int64_t height, int64_t width,
                                           std::vector<int64_t> targets, int64_t num_classes,
                                           std::string origin)
    : Dataset(std::move(targets), num_classes, origin),
      values_(std::move(values)),
      channels_(channels),
      height_(height),
      width_(width),
      origin_(std::move(origin)) {
  AR1_CHECK(height_ > 0 && width_ > 0 && (channels_ == 1 || channels_ == 3), "[dataset] ",
            origin_, ": expected a positive size and 1 or 3 channels, got ", channels_, "x",
            height_, "x", width_);
  const auto want = static_cast<size_t>(size() * channels_ * height_ * width_);
  AR1_CHECK(values_.size() == want, "[dataset] ", origin_, ": expected ", want, " values for ",
            size(), " images of ", channels_, "x", height_, "x", width_, ", got ",
            values_.size());
  for (size_t k = 0; k < values_.size(); ++k) {
    const float v = values_[k];
    AR1_CHECK(v >= 0.f && v <= 1.f, "[dataset] ", origin_, ": image ",
              static_cast<int64_t>(k) / (channels_ * height_ * width_), " holds ", v,
              ": float images take values in [0, 1] (divide 8-bit pixels by 255)");
  }
}

std::optional<FloatImage> FloatInMemoryDataset::float_image(int64_t i) const {
  check_index(i);
  FloatImage img{channels_, height_, width_, {}};
  const float* p = values_.data() + i * img.numel();
  img.values.resize(static_cast<size_t>(img.numel()));
  for (int64_t k = 0; k < img.numel(); ++k) img.values[static_cast<size_t>(k)] = p[k] * 255.f;
  return img;
}

Image FloatInMemoryDataset::image(int64_t i) const {
  const FloatImage f = *float_image(i);
  Image img{height_, width_, channels_, std::vector<uint8_t>(static_cast<size_t>(f.numel()))};
  for (int64_t c = 0; c < channels_; ++c) {
    for (int64_t y = 0; y < height_; ++y) {
      for (int64_t x = 0; x < width_; ++x) {
        img.pixels[static_cast<size_t>((y * width_ + x) * channels_ + c)] =
            static_cast<uint8_t>(std::lround(f.at(c, y, x)));
      }
    }
  }
  return img;
}

std::string FloatInMemoryDataset::source(int64_t i) const {
  return origin_ + " #" + std::to_string(i);
}

// ---- FileListDataset ----

FileListDataset::FileListDataset(std::vector<std::filesystem::path> paths,
                                 std::vector<int64_t> targets, int64_t num_classes,
                                 std::string origin)
    : Dataset(std::move(targets), num_classes, origin), paths_(std::move(paths)) {
  AR1_CHECK(paths_.size() == static_cast<size_t>(size()), "[dataset] ", origin,
            ": expected one target per path, got ", paths_.size(), " paths and ", size(),
            " targets");
}

const std::filesystem::path& FileListDataset::path(int64_t i) const {
  check_index(i);
  return paths_[static_cast<size_t>(i)];
}

Image FileListDataset::image(int64_t i) const { return decode_image_file(path(i)); }

std::string FileListDataset::source(int64_t i) const { return path(i).string(); }

// ---- Subset ----

Subset::Subset(DatasetPtr parent, std::vector<int64_t> indices)
    : Dataset(
          [&] {
            AR1_CHECK(parent != nullptr, "[dataset] Subset needs a parent dataset, got null");
            std::vector<int64_t> t;
            t.reserve(indices.size());
            for (int64_t i : indices) {
              AR1_CHECK(i >= 0 && i < parent->size(), "[dataset] subset index ", i,
                        " out of range: the parent dataset has ", parent->size(), " items");
              t.push_back(parent->targets()[static_cast<size_t>(i)]);
            }
            return t;
          }(),
          parent->num_classes(), "subset"),
      parent_(std::move(parent)),
      indices_(std::move(indices)) {
  // Point straight at the root so that chains of subsets cost one indirection.
  if (auto* inner = dynamic_cast<const Subset*>(parent_.get())) {
    for (auto& i : indices_) i = inner->indices_[static_cast<size_t>(i)];
    parent_ = inner->parent_;
  }
}

Image Subset::image(int64_t i) const {
  check_index(i);
  return parent_->image(indices_[static_cast<size_t>(i)]);
}

std::optional<FloatImage> Subset::float_image(int64_t i) const {
  check_index(i);
  return parent_->float_image(indices_[static_cast<size_t>(i)]);
}

std::string Subset::source(int64_t i) const {
  check_index(i);
  return parent_->source(indices_[static_cast<size_t>(i)]);
}

std::shared_ptr<const Subset> make_subset(DatasetPtr parent, std::vector<int64_t> indices) {
  return std::make_shared<const Subset>(std::move(parent), std::move(indices));
}

// ---- helpers ----

std::vector<std::vector<int64_t>> indices_by_class(const Dataset& dataset) {
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(dataset.num_classes()));
  const auto& t = dataset.targets();
  for (size_t i = 0; i < t.size(); ++i) by_class[static_cast<size_t>(t[i])].push_back(int64_t(i));
  return by_class;
}

std::vector<int64_t> classes_present(const Dataset& dataset) {
  std::vector<char> seen(static_cast<size_t>(dataset.num_classes()), 0);
  for (int64_t t : dataset.targets()) seen[static_cast<size_t>(t)] = 1;
  std::vector<int64_t> classes;
  for (size_t c = 0; c < seen.size(); ++c)
    if (seen[c]) classes.push_back(static_cast<int64_t>(c));
  return classes;
}

std::shared_ptr<const Subset> take_per_class(DatasetPtr dataset, int64_t per_class) {
  AR1_CHECK(per_class > 0, "[dataset] take_per_class expects a positive count, got ", per_class);
  std::vector<int64_t> taken(static_cast<size_t>(dataset->num_classes()), 0);
  std::vector<int64_t> keep;
  const auto& t = dataset->targets();
  for (size_t i = 0; i < t.size(); ++i) {
    if (taken[static_cast<size_t>(t[i])]++ < per_class) keep.push_back(static_cast<int64_t>(i));
  }
  return make_subset(std::move(dataset), std::move(keep));
}

}  // namespace ar1::data
