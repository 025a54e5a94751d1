#pragma once
// Small synthetic "objects" for the C API tests: class c is a colour and a stripe frequency
// of its own under pixel noise, so a randomly initialised MobileNetV1 tells them apart after
// a few epochs. Deterministic in (class, index).
#include <cstdint>
#include <vector>

namespace ar1::testing {

inline constexpr int64_t kObjectSide = 16;

struct ObjectBatch {
  std::vector<uint8_t> pixels;  // [count, side, side, 3]
  std::vector<int32_t> labels;
  int64_t count = 0;
};

// `per_class` images of each of `classes`, `side` x `side`; `first` offsets the noise so sets
// differ.
inline ObjectBatch synthetic_objects(const std::vector<int32_t>& classes, int64_t per_class,
                                     uint32_t first = 0, int64_t side = kObjectSide) {
  static const uint8_t kColour[8][3] = {{220, 40, 40},  {40, 200, 60},  {50, 60, 220},
                                        {230, 220, 60}, {200, 60, 210}, {60, 210, 210},
                                        {240, 240, 240}, {90, 90, 90}};
  ObjectBatch b;
  for (int32_t c : classes) {
    for (int64_t i = 0; i < per_class; ++i) {
      uint32_t state = 2654435761u * (static_cast<uint32_t>(c) * 7919u + static_cast<uint32_t>(i) + first * 104729u) + 1u;
      for (int64_t y = 0; y < side; ++y) {
        for (int64_t x = 0; x < side; ++x) {
          const bool stripe = ((y * (1 + c % 4)) / 4) % 2 == 0;
          for (int k = 0; k < 3; ++k) {
            state = state * 1664525u + 1013904223u;
            const int noise = static_cast<int>(state >> 27) - 16;  // -16..15
            const int base = stripe ? kColour[c % 8][k] : kColour[c % 8][k] / 2;
            const int v = base + noise;
            b.pixels.push_back(static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v));
          }
        }
      }
      b.labels.push_back(c);
      ++b.count;
    }
  }
  return b;
}

}  // namespace ar1::testing
