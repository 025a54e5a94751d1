// CIFAR-10 and CIFAR-100 binary batches.
#include "data/cifar_reader.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = ar1::fuzz::write_input(data, size, ".bin");
  using ar1::data::CifarKind;
  for (CifarKind kind : {CifarKind::cifar10, CifarKind::cifar100_fine}) {
    ar1::fuzz::expect_success_or_error([&] { ar1::data::load_cifar_batches({path}, kind); });
  }
  return 0;
}
