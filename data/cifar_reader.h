#pragma once
// CIFAR-10 and CIFAR-100 binary batches. Each record is its label byte(s) then 3072 bytes of
// 32x32 RGB as three planes (R, G, B). CIFAR-10: 1 label byte (0..9), files
// data_batch_{1..5}.bin and test_batch.bin. CIFAR-100: a coarse (0..19) then a fine (0..99)
// label byte, files train.bin and test.bin. Images are interleaved to HWC on load.
#include <filesystem>
#include <memory>
#include <vector>

#include "data/dataset.h"
#include "data/idx_reader.h"  // Split

namespace ar1::data {

enum class CifarKind { cifar10, cifar100_fine, cifar100_coarse };

std::shared_ptr<const InMemoryDataset> load_cifar_batches(
    const std::vector<std::filesystem::path>& files, CifarKind kind);

// The standard file names under `folder` (cifar-10-batches-bin/ or cifar-100-binary/).
std::shared_ptr<const InMemoryDataset> load_cifar_folder(const std::filesystem::path& folder,
                                                         CifarKind kind, Split split);

}  // namespace ar1::data
