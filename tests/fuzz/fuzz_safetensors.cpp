// safetensors files: weights (--weights) and what the checkpoint reader opens first.
#include "core/io/safetensors.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = ar1::fuzz::write_input(data, size, ".safetensors");
  ar1::fuzz::expect_success_or_error([&] { ar1::load_safetensors(path); });
  return 0;
}
