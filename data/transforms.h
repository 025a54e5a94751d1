#pragma once
// Image transforms. An Image (u8 HWC) becomes a FloatImage (f32 CHW) through to_float, then
// each Transform edits the FloatImage in place. Random transforms draw only from the
// Generator they are handed (the loader gives each sample its own, seeded from the loader
// seed, the epoch and the sample's position), so results never depend on threads.
//
// To add a transform: write a function returning Transform{name, random, apply}; `apply`
// may change the image's size and channels.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/image.h"

namespace ar1::data {

struct Transform {
  std::string name;
  bool random = false;  // draws from the generator
  std::function<void(FloatImage&, Generator&)> apply;
};

inline const std::vector<float> kImageNetMean = {0.485f, 0.456f, 0.406f};
inline const std::vector<float> kImageNetStd = {0.229f, 0.224f, 0.225f};

// u8 HWC -> f32 CHW, values kept in 0..255.
FloatImage to_float(const Image& image);

Transform scale(float factor);  // x * factor
Transform scale_to_unit();      // x / 255: 0..255 -> [0, 1]
// Per channel (x - mean[c]) / std[c]; one entry per channel (or one for all).
Transform normalize(std::vector<float> mean = kImageNetMean, std::vector<float> std = kImageNetStd);
Transform grey_to_rgb();  // 1 channel -> 3 equal ones; 3 channels pass unchanged
// Bilinear, half-pixel centres (PyTorch's align_corners=False), no antialiasing.
Transform resize(int64_t height, int64_t width);
Transform pad(int64_t padding, float fill = 0.f);       // same on all four sides
Transform random_crop(int64_t height, int64_t width);   // draws y then x, uniform
Transform random_horizontal_flip(float p = 0.5f);       // draws one float per image

// A sequence of transforms after to_float.
class Pipeline {
 public:
  Pipeline() = default;
  Pipeline(std::initializer_list<Transform> transforms) : transforms_(transforms) {}
  Pipeline& then(Transform t);

  FloatImage operator()(const Image& image, Generator& gen) const;
  // The transforms alone, on an image already in to_float's form (values 0..255).
  FloatImage transform(FloatImage image, Generator& gen) const;
  bool is_random() const;  // any random transform: outputs change between epochs
  std::string describe() const;  // "scale_to_unit -> grey_to_rgb -> resize(32x32) -> ..."

 private:
  std::vector<Transform> transforms_;
};

// SPEC.md's network input: [0,1], grey replicated to 3 channels, resized to size x size
// (skipped when size <= 0), ImageNet-normalised.
Pipeline standard_pipeline(int64_t size);

}  // namespace ar1::data
