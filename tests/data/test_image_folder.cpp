#include <doctest/doctest.h>

#include "data/image_folder.h"
#include "error_text.h"
#include "fixtures.h"

using namespace ar1::data;
using namespace ar1::data::testing;

TEST_CASE("image folder: classes from sub-folders, PNG and JPEG decoded") {
  TempDir dir;
  std::filesystem::create_directories(dir / "cat");
  std::filesystem::create_directories(dir / "dog");
  write_png(dir / "dog/b.png", pattern_image(6, 4, 3, 2));
  write_jpeg(dir / "cat/a.JPG", smooth_image(8, 8, 3));
  write_bytes(dir / "dog/notes.txt", {'x'});  // ignored
  const ImageFolder f = load_image_folder(dir.path());
  CHECK(f.class_names == std::vector<std::string>{"cat", "dog"});
  REQUIRE(f.dataset->size() == 2);
  CHECK(f.dataset->targets() == std::vector<int64_t>{0, 1});
  CHECK(f.dataset->num_classes() == 2);
  const Image jpg = f.dataset->image(0);
  CHECK(jpg.height == 8);
  CHECK(jpg.channels == 3);
  const Image png = f.dataset->image(1);
  CHECK(png.pixels == pattern_image(6, 4, 3, 2).pixels);
}

TEST_CASE("image folder: an undecodable image names its file") {
  TempDir dir;
  write_bytes(dir / "a/broken.png", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0});
  const ImageFolder f = load_image_folder(dir.path());
  const std::string msg = error_of([&] { f.dataset->image(0); });
  CHECK(has(msg, "broken.png"));
  CHECK(has(msg, "[image]"));
}

TEST_CASE("image folder: empty or missing folders are rejected") {
  TempDir dir;
  CHECK(has(error_of([&] { load_image_folder(dir / "nope"); }), "no such folder"));
  CHECK(has(error_of([&] { load_image_folder(dir.path()); }), "one sub-folder per class"));
  std::filesystem::create_directories(dir / "a");
  CHECK(has(error_of([&] { load_image_folder(dir.path()); }), ".png/.jpg/.jpeg"));
}
