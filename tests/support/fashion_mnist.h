#pragma once
// Where the tests find Fashion-MNIST: $AR1_FASHION_MNIST_DIR when set, else Debian's
// dataset-fashion-mnist folder. A test case that needs it calls fashion_mnist_or_skip(),
// which skips the case (CTest: "Skipped") when the folder lacks the training images.
//
//   AR1_FASHION_MNIST_DIR=/nowhere ctest --test-dir build   # the data cases report Skipped
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/skip_test.h"

namespace ar1::testing {

inline std::filesystem::path fashion_mnist_dir() {
  const char* dir = std::getenv("AR1_FASHION_MNIST_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
  return "/usr/share/datasets/fashion-mnist";
}

inline std::filesystem::path fashion_mnist_or_skip() {
  const std::filesystem::path dir = fashion_mnist_dir();
  if (!std::filesystem::exists(dir / "train-images-idx3-ubyte.gz") &&
      !std::filesystem::exists(dir / "train-images-idx3-ubyte")) {
    skip_test("Fashion-MNIST not found in " + dir.string() +
              " (apt-get install dataset-fashion-mnist, or set AR1_FASHION_MNIST_DIR)");
  }
  return dir;
}

}  // namespace ar1::testing
