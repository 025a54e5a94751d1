#pragma once
// IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed (told by content, not the name).
// Layout: a big-endian magic 0x0000TTDD (TT = 0x08 for unsigned bytes, DD = number of
// dimensions), DD big-endian u32 sizes, then the bytes. Images are [n, rows, cols] (magic
// 0x00000803), labels [n] (0x00000801).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "data/dataset.h"

namespace ar1::data {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;  // row-major, product(dims) bytes
};

// Reads one unsigned-byte IDX file with `expected_dims` dimensions.
IdxArray read_idx(const std::filesystem::path& path, int expected_dims);

// An images file and its labels file as a 1-channel dataset; every label must be below
// num_classes.
std::shared_ptr<const InMemoryDataset> load_idx_dataset(const std::filesystem::path& images,
                                                        const std::filesystem::path& labels,
                                                        int64_t num_classes = 10);

enum class Split { train, test };

// MNIST or Fashion-MNIST from a folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte
// with or without ".gz" (e.g. /usr/share/datasets/fashion-mnist from Debian's
// dataset-fashion-mnist).
std::shared_ptr<const InMemoryDataset> load_mnist_folder(const std::filesystem::path& folder,
                                                         Split split);

}  // namespace ar1::data
