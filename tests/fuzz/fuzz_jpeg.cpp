// JPEG through our decoder (data/image_decode.h on libjpeg), from memory.
#include <vector>

#include "data/image_decode.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  ar1::fuzz::expect_success_or_error([&] { ar1::data::decode_image(bytes, "fuzz.jpg"); });
  return 0;
}
