// IDX files as the reader meets them: plain, or gzip (told by content), so this target also
// reaches the gzip path when the input starts with gzip's magic (the corpus holds one).
#include "data/idx_reader.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = ar1::fuzz::write_input(data, size, ".idx");
  for (int dims : {1, 3}) {
    ar1::fuzz::expect_success_or_error([&] { ar1::data::read_idx(path, dims); });
  }
  return 0;
}
