// The checkpoint reader: its metadata (config, scenario position, checksum) as `ar1 eval` and
// `--resume` read it before anything is restored.
#include "strategy/checkpoint.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = ar1::fuzz::write_input(data, size, ".safetensors");
  ar1::fuzz::expect_success_or_error([&] { ar1::strategy::read_checkpoint_metadata(path); });
  return 0;
}
