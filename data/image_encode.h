#pragma once
// Writing PNG and JPEG files (test fixtures, the fixture generator). 1 or 3 channels, HWC.
#include <filesystem>

#include "data/image.h"

namespace ar1::data {

void write_png(const std::filesystem::path& path, const Image& image);
void write_jpeg(const std::filesystem::path& path, const Image& image, int quality = 95);

}  // namespace ar1::data
