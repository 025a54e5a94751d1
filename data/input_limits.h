#pragma once
// What a reader accepts before it allocates, so that a corrupt or hostile file (a header that
// claims petabytes, an image of 100k x 100k, a file list of a billion lines) is refused with a
// message instead of exhausting memory. Each limit can be raised with an environment variable,
// named in the message:
//   AR1_MAX_IMAGE_PIXELS      pixels of one decoded image           (default 2^28: 16384 x 16384)
//   AR1_MAX_IDX_BYTES         bytes of one IDX array                (default 2^34: 16 GiB)
//   AR1_MAX_FILE_LIST_LINES   lines of one CORe50 / file-list file  (default 10,000,000)
#include <cstdint>

namespace ar1::data {

struct InputLimits {
  uint64_t image_pixels = uint64_t{1} << 28;
  uint64_t idx_bytes = uint64_t{1} << 34;
  uint64_t file_list_lines = 10'000'000;
};

// The defaults, with any environment override (read each call: tests change them).
InputLimits input_limits();

}  // namespace ar1::data
