// CORe50's batch file lists ("relative/path.png label" per line).
#include "data/file_list.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = ar1::fuzz::write_input(data, size, ".txt");
  ar1::fuzz::expect_success_or_error(
      [&] { ar1::data::read_file_list(path, "/nonexistent-image-root", 50, false); });
  ar1::fuzz::expect_success_or_error(
      [&] { ar1::data::read_file_list(path, "/nonexistent-image-root", 50, true); });
  return 0;
}
