#include "data/transforms.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ar1::data {

FloatImage to_float(const Image& image) {
  AR1_CHECK(image.pixels.size() == static_cast<size_t>(image.numel()) && image.numel() > 0,
            "[transforms] to_float expects a non-empty image with height*width*channels "
            "pixels, got ", image.height, "x", image.width, "x", image.channels, " with ",
            image.pixels.size(), " bytes");
  FloatImage out{image.channels, image.height, image.width, {}};
  out.values.resize(static_cast<size_t>(out.numel()));
  const int64_t plane = image.height * image.width, c_n = image.channels;
  const uint8_t* src = image.pixels.data();
  for (int64_t c = 0; c < c_n; ++c) {
    float* dst = out.values.data() + c * plane;
    for (int64_t p = 0; p < plane; ++p) dst[p] = static_cast<float>(src[p * c_n + c]);
  }
  return out;
}

Transform scale(float factor) {
  return {"scale", false, [factor](FloatImage& img, Generator&) {
            for (auto& v : img.values) v *= factor;
          }};
}

Transform scale_to_unit() {
  return {"scale_to_unit", false, [](FloatImage& img, Generator&) {
            for (auto& v : img.values) v /= 255.f;
          }};
}

Transform normalize(std::vector<float> mean, std::vector<float> std) {
  AR1_CHECK(!mean.empty() && mean.size() == std.size(), "[transforms] normalize expects as many "
            "means as stds (one per channel), got ", mean.size(), " and ", std.size());
  for (float s : std)
    AR1_CHECK(s > 0.f, "[transforms] normalize expects positive stds, got ", s);
  return {"normalize", false, [mean, std](FloatImage& img, Generator&) {
            AR1_CHECK(mean.size() == 1 || static_cast<int64_t>(mean.size()) == img.channels,
                      "[transforms] normalize has ", mean.size(), " channel constants, the image ",
                      img.channels, " channels; add grey_to_rgb before it or pass one constant "
                      "per channel");
            const int64_t plane = img.height * img.width;
            for (int64_t c = 0; c < img.channels; ++c) {
              const size_t k = mean.size() == 1 ? 0 : static_cast<size_t>(c);
              const float m = mean[k], inv = 1.f / std[k];
              float* p = img.values.data() + c * plane;
              for (int64_t i = 0; i < plane; ++i) p[i] = (p[i] - m) * inv;
            }
          }};
}

Transform grey_to_rgb() {
  return {"grey_to_rgb", false, [](FloatImage& img, Generator&) {
            if (img.channels == 3) return;
            AR1_CHECK(img.channels == 1, "[transforms] grey_to_rgb expects 1 or 3 channels, got ",
                      img.channels);
            const size_t plane = img.values.size();
            img.values.resize(3 * plane);
            std::copy_n(img.values.begin(), plane, img.values.begin() + plane);
            std::copy_n(img.values.begin(), plane, img.values.begin() + 2 * plane);
            img.channels = 3;
          }};
}

Transform resize(int64_t height, int64_t width) {
  AR1_CHECK(height > 0 && width > 0, "[transforms] resize expects a positive size, got ", height,
            "x", width);
  return {"resize(" + std::to_string(height) + "x" + std::to_string(width) + ")", false,
          [height, width](FloatImage& img, Generator&) {
            if (img.height == height && img.width == width) return;
            // Source coordinate of each output row / column: (o + 0.5) * in/out - 0.5,
            // clamped at 0; the two neighbours and the weight of the second.
            struct Tap { int64_t lo, hi; float w; };
            auto taps = [](int64_t in, int64_t out) {
              std::vector<Tap> t(static_cast<size_t>(out));
              const double ratio = static_cast<double>(in) / static_cast<double>(out);
              for (int64_t o = 0; o < out; ++o) {
                const double src = std::max(0.0, (static_cast<double>(o) + 0.5) * ratio - 0.5);
                const auto lo = std::min(static_cast<int64_t>(src), in - 1);
                t[static_cast<size_t>(o)] = {lo, std::min(lo + 1, in - 1),
                                             static_cast<float>(src - static_cast<double>(lo))};
              }
              return t;
            };
            const auto ty = taps(img.height, height), tx = taps(img.width, width);
            FloatImage out{img.channels, height, width, {}};
            out.values.resize(static_cast<size_t>(out.numel()));
            for (int64_t c = 0; c < img.channels; ++c) {
              for (int64_t y = 0; y < height; ++y) {
                const Tap& a = ty[static_cast<size_t>(y)];
                const float* r0 = &img.values[static_cast<size_t>((c * img.height + a.lo) * img.width)];
                const float* r1 = &img.values[static_cast<size_t>((c * img.height + a.hi) * img.width)];
                float* dst = &out.values[static_cast<size_t>((c * height + y) * width)];
                for (int64_t x = 0; x < width; ++x) {
                  const Tap& b = tx[static_cast<size_t>(x)];
                  const float top = r0[b.lo] + (r0[b.hi] - r0[b.lo]) * b.w;
                  const float bottom = r1[b.lo] + (r1[b.hi] - r1[b.lo]) * b.w;
                  dst[x] = top + (bottom - top) * a.w;
                }
              }
            }
            img = std::move(out);
          }};
}

Transform pad(int64_t padding, float fill) {
  AR1_CHECK(padding >= 0, "[transforms] pad expects a padding >= 0, got ", padding);
  return {"pad(" + std::to_string(padding) + ")", false,
          [padding, fill](FloatImage& img, Generator&) {
            if (padding == 0) return;
            FloatImage out{img.channels, img.height + 2 * padding, img.width + 2 * padding, {}};
            out.values.assign(static_cast<size_t>(out.numel()), fill);
            for (int64_t c = 0; c < img.channels; ++c)
              for (int64_t y = 0; y < img.height; ++y)
                std::copy_n(&img.values[static_cast<size_t>((c * img.height + y) * img.width)],
                            img.width, &out.at(c, y + padding, padding));
            img = std::move(out);
          }};
}

Transform random_crop(int64_t height, int64_t width) {
  AR1_CHECK(height > 0 && width > 0, "[transforms] random_crop expects a positive size, got ",
            height, "x", width);
  return {"random_crop(" + std::to_string(height) + "x" + std::to_string(width) + ")", true,
          [height, width](FloatImage& img, Generator& gen) {
            AR1_CHECK(img.height >= height && img.width >= width, "[transforms] random_crop of ",
                      height, "x", width, " needs an image at least that big, got ", img.height,
                      "x", img.width, "; add pad() or resize() before it");
            const auto y0 = static_cast<int64_t>(gen.next_below(uint64_t(img.height - height + 1)));
            const auto x0 = static_cast<int64_t>(gen.next_below(uint64_t(img.width - width + 1)));
            FloatImage out{img.channels, height, width, {}};
            out.values.resize(static_cast<size_t>(out.numel()));
            for (int64_t c = 0; c < img.channels; ++c)
              for (int64_t y = 0; y < height; ++y)
                std::copy_n(&img.at(c, y0 + y, x0), width, &out.at(c, y, 0));
            img = std::move(out);
          }};
}

Transform random_horizontal_flip(float p) {
  return {"random_horizontal_flip", true, [p](FloatImage& img, Generator& gen) {
            if (gen.next_float() >= p) return;
            for (int64_t c = 0; c < img.channels; ++c)
              for (int64_t y = 0; y < img.height; ++y) {
                float* row = &img.at(c, y, 0);
                std::reverse(row, row + img.width);
              }
          }};
}

Pipeline& Pipeline::then(Transform t) {
  transforms_.push_back(std::move(t));
  return *this;
}

FloatImage Pipeline::operator()(const Image& image, Generator& gen) const {
  return transform(to_float(image), gen);
}

FloatImage Pipeline::transform(FloatImage image, Generator& gen) const {
  for (const auto& t : transforms_) t.apply(image, gen);
  return image;
}

bool Pipeline::is_random() const {
  return std::any_of(transforms_.begin(), transforms_.end(),
                     [](const Transform& t) { return t.random; });
}

std::string Pipeline::describe() const {
  std::string out = "to_float";
  for (const auto& t : transforms_) out += " -> " + t.name;
  return out;
}

Pipeline standard_pipeline(int64_t size) {
  Pipeline p;
  p.then(scale_to_unit()).then(grey_to_rgb());
  if (size > 0) p.then(resize(size, size));
  p.then(normalize());
  return p;
}

}  // namespace ar1::data
