#include "data/cifar_reader.h"

#include <string>

#include "core/error.h"
#include "data/image_decode.h"

namespace ar1::data {

namespace {
constexpr int64_t kSide = 32;
constexpr int64_t kPlane = kSide * kSide;
constexpr int64_t kPixels = 3 * kPlane;
}  // namespace

std::shared_ptr<const InMemoryDataset> load_cifar_batches(
    const std::vector<std::filesystem::path>& files, CifarKind kind) {
  AR1_CHECK(!files.empty(), "[cifar] expected at least one batch file, got none");
  const int64_t label_bytes = kind == CifarKind::cifar10 ? 1 : 2;
  const int64_t label_at = kind == CifarKind::cifar100_fine ? 1 : 0;
  const int64_t num_classes =
      kind == CifarKind::cifar10 ? 10 : (kind == CifarKind::cifar100_fine ? 100 : 20);
  const int64_t record = label_bytes + kPixels;

  std::vector<uint8_t> pixels;
  std::vector<int64_t> targets;
  for (const auto& file : files) {
    const std::vector<uint8_t> bytes = read_file_bytes(file, "cifar");
    const auto size = static_cast<int64_t>(bytes.size());
    AR1_CHECK(size > 0 && size % record == 0, "[cifar] ", file.string(), ": expected a whole "
              "number of ", record, "-byte records (", label_bytes, " label byte(s) + 3072 "
              "pixels), found ", size, " bytes; the file is truncated or not a ",
              kind == CifarKind::cifar10 ? "CIFAR-10" : "CIFAR-100", " binary batch");
    const int64_t n = size / record;
    const size_t base = pixels.size();
    pixels.resize(base + static_cast<size_t>(n * kPixels));
    for (int64_t r = 0; r < n; ++r) {
      const uint8_t* rec = bytes.data() + r * record;
      const int64_t label = rec[label_at];
      AR1_CHECK(label < num_classes, "[cifar] ", file.string(), ": record #", r, " has label ",
                label, ", expected a label in [0, ", num_classes, "); the file is corrupt or "
                "is a batch of the other CIFAR");
      targets.push_back(label);
      // planes [3, 32, 32] -> interleaved [32, 32, 3]
      const uint8_t* planes = rec + label_bytes;
      uint8_t* dst = pixels.data() + base + static_cast<size_t>(r * kPixels);
      for (int64_t p = 0; p < kPlane; ++p)
        for (int64_t c = 0; c < 3; ++c) dst[p * 3 + c] = planes[c * kPlane + p];
    }
  }
  return std::make_shared<const InMemoryDataset>(std::move(pixels), kSide, kSide, 3,
                                                 std::move(targets), num_classes,
                                                 files.front().string());
}

std::shared_ptr<const InMemoryDataset> load_cifar_folder(const std::filesystem::path& folder,
                                                         CifarKind kind, Split split) {
  std::vector<std::filesystem::path> files;
  if (kind == CifarKind::cifar10) {
    if (split == Split::train) {
      for (int i = 1; i <= 5; ++i) files.push_back(folder / ("data_batch_" + std::to_string(i) + ".bin"));
    } else {
      files.push_back(folder / "test_batch.bin");
    }
  } else {
    files.push_back(folder / (split == Split::train ? "train.bin" : "test.bin"));
  }
  for (const auto& f : files) {
    AR1_CHECK(std::filesystem::is_regular_file(f), "[cifar] expected ", f.string(),
              ", found no such file; point at the extracted cifar-10-batches-bin/ or "
              "cifar-100-binary/ folder");
  }
  return load_cifar_batches(files, kind);
}

}  // namespace ar1::data
