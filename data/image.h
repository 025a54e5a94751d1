#pragma once
// Image: one decoded picture as the readers hand it over, 8-bit and interleaved (HWC), the
// layout PNG, JPEG, IDX and the image folder all produce. CIFAR stores planes (CHW) on disk;
// its reader interleaves them on load so every dataset speaks the same layout.
// The transforms turn an Image into a planar f32 FloatImage (CHW), the layout of the network
// input [N, C, H, W].
#include <cstdint>
#include <vector>

namespace ar1::data {

struct Image {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;         // 1 (grey) or 3 (RGB)
  std::vector<uint8_t> pixels;  // [height, width, channels], row-major

  int64_t numel() const { return height * width * channels; }
};

struct FloatImage {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> values;  // [channels, height, width], row-major

  int64_t numel() const { return channels * height * width; }
  float& at(int64_t c, int64_t y, int64_t x) { return values[(c * height + y) * width + x]; }
  float at(int64_t c, int64_t y, int64_t x) const { return values[(c * height + y) * width + x]; }
};

}  // namespace ar1::data
