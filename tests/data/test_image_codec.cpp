#include <doctest/doctest.h>

#include "data/image_decode.h"
#include "data/image_encode.h"
#include "error_text.h"
#include "fixtures.h"

using namespace ar1::data;
using namespace ar1::data::testing;

TEST_CASE("image codec: PNG round trip, grey and RGB") {
  TempDir dir;
  for (int64_t c : {1, 3}) {
    const Image img = pattern_image(5, 7, c, 3);
    const auto path = dir / ("img" + std::to_string(c) + ".png");
    write_png(path, img);
    const Image back = decode_image_file(path);
    CHECK(back.height == 5);
    CHECK(back.width == 7);
    CHECK(back.channels == c);
    CHECK(back.pixels == img.pixels);
  }
}

TEST_CASE("image codec: JPEG round trip is close") {
  TempDir dir;
  const Image img = smooth_image(16, 16, 3);
  write_jpeg(dir / "a.jpg", img, 98);
  const Image back = decode_image_file(dir / "a.jpg");
  REQUIRE(back.channels == 3);
  REQUIRE(back.pixels.size() == img.pixels.size());
  int worst = 0;
  for (size_t i = 0; i < img.pixels.size(); ++i)
    worst = std::max(worst, std::abs(int(back.pixels[i]) - int(img.pixels[i])));
  CHECK(worst <= 8);  // lossy, but a smooth ramp at quality 98 stays within a few levels
  write_jpeg(dir / "g.jpg", smooth_image(8, 8, 1), 95);
  CHECK(decode_image_file(dir / "g.jpg").channels == 1);
}

TEST_CASE("image codec: undecodable files name the file") {
  TempDir dir;
  write_bytes(dir / "junk.png", {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  std::string msg = error_of([&] { decode_image_file(dir / "junk.png"); });
  CHECK(has(msg, "[image]"));
  CHECK(has(msg, "junk.png"));
  CHECK(has(msg, "PNG or JPEG"));

  // A PNG cut in half: the signature is right, the data is not.
  write_png(dir / "full.png", pattern_image(32, 32, 3, 1));
  auto bytes = read_file_bytes(dir / "full.png", "test");
  bytes.resize(bytes.size() / 2);
  write_bytes(dir / "half.png", bytes);
  msg = error_of([&] { decode_image_file(dir / "half.png"); });
  CHECK(has(msg, "half.png"));
  CHECK(has(msg, "PNG"));

  write_jpeg(dir / "full.jpg", smooth_image(32, 32, 3));
  bytes = read_file_bytes(dir / "full.jpg", "test");
  bytes.resize(20);
  write_bytes(dir / "cut.jpg", bytes);
  msg = error_of([&] { decode_image_file(dir / "cut.jpg"); });
  CHECK(has(msg, "cut.jpg"));
  CHECK(has(msg, "JPEG"));

  msg = error_of([&] { decode_image_file(dir / "absent.png"); });
  CHECK(has(msg, "absent.png"));
}

TEST_CASE("image codec: a JPEG whose data ends early is refused, not filled with grey") {
  // tests/fuzz/fuzz_jpeg's finding: libjpeg only warns at a premature end and decodes the rest as
  // grey, so a few hundred bytes claiming a huge image decoded to hundreds of megabytes.
  TempDir dir;
  write_jpeg(dir / "full.jpg", smooth_image(256, 256, 3));
  auto bytes = read_file_bytes(dir / "full.jpg", "test");
  bytes.resize(bytes.size() / 3);  // the header and the first scans only
  write_bytes(dir / "short.jpg", bytes);
  const std::string msg = error_of([&] { decode_image_file(dir / "short.jpg"); });
  CHECK_MESSAGE(has(msg, "short.jpg"), msg);
  CHECK_MESSAGE(has(msg, "Premature end of JPEG file"), msg);
}
