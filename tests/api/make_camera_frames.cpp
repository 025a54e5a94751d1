// Writes the camera-frame folder examples/camera_sessions.c learns from: synthetic objects
// (synthetic_objects.h) as PNG files, one folder per short session and a held-out test set.
//   ar1_make_camera_frames DIR
//   DIR/session_00/0/frame_000.png ...  classes 0 and 1
//   DIR/session_01/2/...                class 2, with a few more frames of class 0
//   DIR/session_02/3/...                class 3
//   DIR/test/<class>/...                every class, frames no session holds
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "data/image_encode.h"
#include "tests/api/synthetic_objects.h"

namespace fs = std::filesystem;
using ar1::testing::kObjectSide;

namespace {

void write_frames(const fs::path& dir, const std::vector<int32_t>& classes, int64_t per_class,
                  uint32_t variant) {
  const auto batch = ar1::testing::synthetic_objects(classes, per_class, variant);
  const int64_t frame = kObjectSide * kObjectSide * 3;
  for (int64_t i = 0; i < batch.count; ++i) {
    const fs::path folder = dir / std::to_string(batch.labels[static_cast<size_t>(i)]);
    fs::create_directories(folder);
    ar1::data::Image image{kObjectSide, kObjectSide, 3, {}};
    image.pixels.assign(batch.pixels.begin() + i * frame, batch.pixels.begin() + (i + 1) * frame);
    char name[32];
    std::snprintf(name, sizeof name, "frame_%03lld.png", static_cast<long long>(i));
    ar1::data::write_png(folder / name, image);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ar1_make_camera_frames DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  write_frames(dir / "session_00", {0, 1}, 24, 0);
  write_frames(dir / "session_01", {2}, 24, 2);
  write_frames(dir / "session_01", {0}, 6, 3);
  write_frames(dir / "session_02", {3}, 24, 4);
  write_frames(dir / "test", {0, 1, 2, 3}, 8, 5);
  return 0;
}
