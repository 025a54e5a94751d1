#pragma once
// Dataset: labelled images with random access by index. Images come back as uint8 HWC
// (data/image.h); targets are class ids in [0, num_classes()), kept in memory for every
// dataset so scenarios can split by class without decoding a pixel.
//
// Four kinds:
//   InMemoryDataset  every image in one contiguous u8 buffer (IDX, CIFAR: small, fixed size)
//   FloatInMemoryDataset  planar f32 images in [0, 1] (the C API's AR1_F32_CHW batches)
//   FileListDataset  image files decoded on each access (CORe50, image folders)
//   Subset           a view of another dataset through an index list (experiences)
// To add a kind: derive from Dataset, pass the targets to its constructor and implement
// image(i) and source(i). image(i) must be safe to call from several threads at once: the
// loader decodes on a thread pool.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/image.h"

namespace ar1::data {

class Dataset {
 public:
  virtual ~Dataset() = default;

  int64_t size() const { return static_cast<int64_t>(targets_.size()); }
  int64_t num_classes() const { return num_classes_; }
  const std::vector<int64_t>& targets() const { return targets_; }
  int64_t target(int64_t i) const;

  // The i-th image, decoded (u8 HWC). Thread-safe.
  virtual Image image(int64_t i) const = 0;
  // Where item i comes from, for error messages ("train-images-idx3-ubyte.gz #17", a path).
  virtual std::string source(int64_t i) const = 0;
  // Datasets of planar f32 images give item i here, as to_float() would have made it from an
  // 8-bit image (values 0..255), so the loader runs the pipeline's transforms on it without
  // a round trip through 8 bits; the others return nothing. Thread-safe.
  virtual std::optional<FloatImage> float_image(int64_t) const { return std::nullopt; }

 protected:
  // Checks every target lies in [0, num_classes); `origin` names the data in the error.
  Dataset(std::vector<int64_t> targets, int64_t num_classes, const std::string& origin);
  void check_index(int64_t i) const;

 private:
  std::vector<int64_t> targets_;
  int64_t num_classes_;
};

using DatasetPtr = std::shared_ptr<const Dataset>;

class InMemoryDataset final : public Dataset {
 public:
  // pixels: [n, height, width, channels] u8, n = targets.size().
  InMemoryDataset(std::vector<uint8_t> pixels, int64_t height, int64_t width, int64_t channels,
                  std::vector<int64_t> targets, int64_t num_classes, std::string origin);
  Image image(int64_t i) const override;
  std::string source(int64_t i) const override;

  int64_t height() const { return height_; }
  int64_t width() const { return width_; }
  int64_t channels() const { return channels_; }
  const uint8_t* pixels(int64_t i) const;  // start of image i (HWC)

 private:
  std::vector<uint8_t> pixels_;
  int64_t height_, width_, channels_;
  std::string origin_;
};

class FloatInMemoryDataset final : public Dataset {
 public:
  // values: [n, channels, height, width] f32 in [0, 1], n = targets.size().
  FloatInMemoryDataset(std::vector<float> values, int64_t channels, int64_t height,
                       int64_t width, std::vector<int64_t> targets, int64_t num_classes,
                       std::string origin);
  // Rounded to 8 bits (for whoever wants pixels); the loader uses float_image.
  Image image(int64_t i) const override;
  std::optional<FloatImage> float_image(int64_t i) const override;
  std::string source(int64_t i) const override;

 private:
  std::vector<float> values_;
  int64_t channels_, height_, width_;
  std::string origin_;
};

class FileListDataset final : public Dataset {
 public:
  // One image file per item; decoded with data/image_decode.h on every image(i) call.
  FileListDataset(std::vector<std::filesystem::path> paths, std::vector<int64_t> targets,
                  int64_t num_classes, std::string origin);
  Image image(int64_t i) const override;
  std::string source(int64_t i) const override;
  const std::filesystem::path& path(int64_t i) const;

 private:
  std::vector<std::filesystem::path> paths_;
};

class Subset final : public Dataset {
 public:
  // indices into `parent`; a Subset of a Subset points straight at the root dataset.
  Subset(DatasetPtr parent, std::vector<int64_t> indices);
  Image image(int64_t i) const override;
  std::optional<FloatImage> float_image(int64_t i) const override;
  std::string source(int64_t i) const override;

  const DatasetPtr& parent() const { return parent_; }
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  DatasetPtr parent_;
  std::vector<int64_t> indices_;
};

std::shared_ptr<const Subset> make_subset(DatasetPtr parent, std::vector<int64_t> indices);

// Indices of each class in dataset order: result[c] lists the items whose target is c.
std::vector<std::vector<int64_t>> indices_by_class(const Dataset& dataset);
// The sorted distinct targets present in the dataset.
std::vector<int64_t> classes_present(const Dataset& dataset);
// The first `per_class` items of every class (in dataset order; fewer where a class has
// fewer), e.g. the 2000 training images per class of SPEC.md section 3c.
std::shared_ptr<const Subset> take_per_class(DatasetPtr dataset, int64_t per_class);

}  // namespace ar1::data
