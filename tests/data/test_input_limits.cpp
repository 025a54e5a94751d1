// data/input_limits.h: hostile headers and files are refused before anything is allocated for
// them, with the limit and how to raise it in the message.
#include <doctest/doctest.h>

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "data/file_list.h"
#include "data/idx_reader.h"
#include "data/image_decode.h"
#include "data/image_encode.h"
#include "data/input_limits.h"
#include "error_text.h"
#include "fixtures.h"

using namespace ar1::data;
using namespace ar1::data::testing;

namespace {

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
    setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("input limits: an image header claiming 100k x 100k is refused before decoding") {
  TempDir dir;
  write_png(dir / "small.png", pattern_image(4, 4, 3, 1));
  std::vector<uint8_t> png = read_file_bytes(dir / "small.png", "test");
  // IHDR follows the 8-byte signature: length (4), "IHDR" (4), width (4), height (4), ...
  // Rewrite width and height and the chunk's CRC (over type and data, 17 bytes).
  for (const size_t at : {size_t{16}, size_t{20}}) {
    const uint32_t v = 100000;
    for (int b = 0; b < 4; ++b) png[at + b] = static_cast<uint8_t>(v >> (24 - 8 * b));
  }
  const uLong crc = crc32(0L, png.data() + 12, 17);
  for (int b = 0; b < 4; ++b) png[29 + b] = static_cast<uint8_t>(crc >> (24 - 8 * b));
  write_bytes(dir / "huge.png", png);
  const std::string msg = error_of([&] { decode_image_file(dir / "huge.png"); });
  CHECK(has(msg, "huge.png"));
  CHECK(has(msg, "100000 x 100000 pixels"));
  CHECK(has(msg, "268435456"));
  CHECK(has(msg, "AR1_MAX_IMAGE_PIXELS"));

  // The same rule for JPEG, with the limit lowered under a real image.
  write_jpeg(dir / "a.jpg", smooth_image(16, 16, 3));
  {
    const ScopedEnv env("AR1_MAX_IMAGE_PIXELS", "255");
    const std::string jpeg = error_of([&] { decode_image_file(dir / "a.jpg"); });
    CHECK(has(jpeg, "16 x 16 pixels, over the limit of 255"));
    CHECK(has(jpeg, "AR1_MAX_IMAGE_PIXELS"));
  }
  CHECK(decode_image_file(dir / "a.jpg").width == 16);  // at the default limit it decodes
}

TEST_CASE("input limits: an idx header claiming petabytes is refused, the limit can be raised") {
  TempDir dir;
  std::vector<uint8_t> img;
  put_u32(img, 0x00000803);
  for (const uint32_t d : {60000u, 100000u, 100000u}) put_u32(img, d);  // 6e14 bytes
  write_bytes(dir / "img", img);
  write_bytes(dir / "lab", idx_labels({0, 1}));
  std::string msg = error_of([&] { load_idx_dataset(dir / "img", dir / "lab"); });
  CHECK(has(msg, "more than 17179869184 bytes"));
  CHECK(has(msg, "AR1_MAX_IDX_BYTES"));
  // A small real file under a lowered limit: refused; a bad override: named.
  write_bytes(dir / "img2", idx_images(2, 4, 4));
  {
    const ScopedEnv env("AR1_MAX_IDX_BYTES", "16");
    msg = error_of([&] { load_idx_dataset(dir / "img2", dir / "lab"); });
    CHECK(has(msg, "more than 16 bytes"));
  }
  {
    const ScopedEnv env("AR1_MAX_IDX_BYTES", "lots");
    msg = error_of([&] { input_limits(); });
    CHECK(has(msg, "AR1_MAX_IDX_BYTES='lots' is not a positive integer"));
  }
  CHECK(load_idx_dataset(dir / "img2", dir / "lab")->size() == 2);
}

TEST_CASE("input limits: a file list of too many lines, or of one endless line, is refused") {
  TempDir dir;
  {
    std::ofstream list(dir / "list.txt");
    for (int i = 0; i < 5; ++i) list << "a/" << i << ".png " << i % 2 << "\n";
  }
  {
    const ScopedEnv env("AR1_MAX_FILE_LIST_LINES", "3");
    const std::string msg = error_of([&] { read_file_list(dir / "list.txt", dir.path(), 2, false); });
    CHECK(has(msg, "more than 3 lines"));
    CHECK(has(msg, "AR1_MAX_FILE_LIST_LINES"));
  }
  CHECK(read_file_list(dir / "list.txt", dir.path(), 2, false).paths.size() == 5);
  {
    std::ofstream list(dir / "long.txt");
    list << std::string(70 * 1024, 'x') << " 1\n";
  }
  const std::string msg = error_of([&] { read_file_list(dir / "long.txt", dir.path(), 2, false); });
  CHECK(has(msg, "long.txt:1: a line longer than 65536 bytes"));
}
