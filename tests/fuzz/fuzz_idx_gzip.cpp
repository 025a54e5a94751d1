// The IDX parser behind gzip: the input is compressed before the reader sees it, so mutations
// reach the header and sizes of a decompressed file (fuzz_idx mutates the gzip stream itself).
#include <zlib.h>

#include <vector>

#include "data/idx_reader.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;  // gzip
  std::vector<uint8_t> packed(deflateBound(&z, size) + 32);
  z.next_in = const_cast<uint8_t*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = packed.data();
  z.avail_out = static_cast<uInt>(packed.size());
  const int status = deflate(&z, Z_FINISH);
  packed.resize(z.total_out);
  deflateEnd(&z);
  if (status != Z_STREAM_END) return 0;
  const auto path = ar1::fuzz::write_input(packed.data(), packed.size(), ".idx.gz");
  for (int dims : {1, 3}) {
    ar1::fuzz::expect_success_or_error([&] { ar1::data::read_idx(path, dims); });
  }
  return 0;
}
