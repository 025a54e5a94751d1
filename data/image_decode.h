#pragma once
// Decoding PNG and JPEG files with libpng (simplified API) and libjpeg-turbo. The format is
// told by the file's first bytes, not its extension. Grey images stay 1 channel; colour ones
// become 3-channel RGB (alpha is composited over black, palettes expanded, 16-bit reduced
// to 8). Any failure throws ar1::Error naming the file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/image.h"

namespace ar1::data {

Image decode_image_file(const std::filesystem::path& path);
// `name` only labels error messages.
Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name);

// The whole file, or an error naming it.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, const char* component);

}  // namespace ar1::data
