#include "data/image_decode.h"

#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

// jpeglib.h needs FILE and size_t declared before it.
#include <jpeglib.h>
#include <jerror.h>  // JWRN_JPEG_EOF

#include "core/error.h"
#include "data/files_read.h"
#include "data/input_limits.h"

namespace ar1::data {

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, const char* component) {
  std::ifstream in(path, std::ios::binary);
  AR1_CHECK(in.good(), "[", component, "] cannot open ", path.string(),
            ": expected a readable file; check the path and permissions");
  note_file_read(path);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  AR1_CHECK(static_cast<size_t>(in.gcount()) == size, "[", component, "] ", path.string(),
            ": expected ", size, " bytes, read ", in.gcount());
  return bytes;
}

namespace {

bool within_pixel_limit(uint64_t width, uint64_t height) {
  return width * height <= input_limits().image_pixels;
}

[[noreturn]] void pixel_limit_error(uint64_t width, uint64_t height, const std::string& name) {
  AR1_FAIL("[image] ", name, ": declares ", width, " x ", height, " pixels, over the limit of ",
           input_limits().image_pixels, " per image; refused before decoding (raise it with "
           "AR1_MAX_IMAGE_PIXELS if the image is real)");
}

bool is_png(const std::vector<uint8_t>& b) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return b.size() >= 8 && std::memcmp(b.data(), sig, 8) == 0;
}
bool is_jpeg(const std::vector<uint8_t>& b) {
  return b.size() >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff;
}

Image decode_png(const std::vector<uint8_t>& bytes, const std::string& name) {
  // The simplified API reports errors through image.message instead of longjmp.
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size())) {
    AR1_FAIL("[image] ", name, ": not a decodable PNG (libpng: ", png.message,
             "); re-export the image or remove it");
  }
  if (!within_pixel_limit(png.width, png.height)) {
    png_image_free(&png);
    pixel_limit_error(png.width, png.height, name);
  }
  const bool colour = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
  png.format = colour ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  Image img{png.height, png.width, colour ? 3 : 1, {}};
  img.pixels.resize(static_cast<size_t>(img.numel()));
  if (!png_image_finish_read(&png, nullptr, img.pixels.data(), 0, nullptr)) {
    const std::string msg = png.message;
    png_image_free(&png);
    AR1_FAIL("[image] ", name, ": PNG data is corrupt or truncated (libpng: ", msg,
             "); re-export the image or remove it");
  }
  return img;
}

// libjpeg reports fatal errors through error_exit, which must not return: jump back to the
// decode function. Only trivially destructible locals live between setjmp and longjmp.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool too_large = false;  // over the pixel limit (data/input_limits.h): refused, not decoded
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}
// Warnings are ignored, but for the data ending early: libjpeg would fill the rest of the image
// with grey, so a few hundred bytes claiming 16384 x 16384 pixels decoded to 800 MB (found by
// tests/fuzz/fuzz_jpeg). A truncated file is refused instead.
void jpeg_warning(j_common_ptr cinfo, int level) {
  if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_error_exit(cinfo);
}

// Returns false with err.message set on failure. `out` is sized after the header is read.
bool decode_jpeg_raw(const std::vector<uint8_t>& bytes, Image* out, JpegError* err) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err->mgr);
  err->mgr.error_exit = jpeg_error_exit;
  err->mgr.emit_message = jpeg_warning;
  if (setjmp(err->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    std::snprintf(err->message, sizeof err->message, "CMYK JPEG is not supported");
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  if (static_cast<uint64_t>(cinfo.image_width) * cinfo.image_height >
      input_limits().image_pixels) {
    out->width = cinfo.image_width;  // the caller names the limit
    out->height = cinfo.image_height;
    err->too_large = true;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  const bool grey = cinfo.jpeg_color_space == JCS_GRAYSCALE;
  cinfo.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out->height = cinfo.output_height;
  out->width = cinfo.output_width;
  out->channels = cinfo.output_components;
  // The buffer grows with the rows decoded (doubling from 64), so memory follows the data that
  // is there, not the header's claim.
  const size_t stride = static_cast<size_t>(out->width * out->channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    const size_t row_end = (cinfo.output_scanline + 1) * stride;
    if (out->pixels.size() < row_end) {
      const size_t rows = std::min<size_t>(cinfo.output_height,
                                           std::max<size_t>(64, 2 * cinfo.output_scanline));
      out->pixels.resize(rows * stride);
    }
    JSAMPROW row = out->pixels.data() + cinfo.output_scanline * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

Image decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& name) {
  Image img;
  JpegError err;
  err.message[0] = '\0';
  if (!decode_jpeg_raw(bytes, &img, &err)) {
    if (err.too_large) pixel_limit_error(img.width, img.height, name);
    AR1_FAIL("[image] ", name, ": not a decodable JPEG (libjpeg: ", err.message,
             "); re-export the image or remove it");
  }
  return img;
}

}  // namespace

Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (is_png(bytes)) return decode_png(bytes, name);
  if (is_jpeg(bytes)) return decode_jpeg(bytes, name);
  AR1_FAIL("[image] ", name, ": expected a PNG or JPEG file, found neither signature (",
           bytes.size(), " bytes); convert the image to PNG or JPEG or remove it");
}

Image decode_image_file(const std::filesystem::path& path) {
  return decode_image(read_file_bytes(path, "image"), path.string());
}

}  // namespace ar1::data
