#include "data/image_encode.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <jpeglib.h>

#include "core/error.h"

namespace ar1::data {

namespace {
void check_image(const Image& image, const std::filesystem::path& path) {
  AR1_CHECK(image.height > 0 && image.width > 0 && (image.channels == 1 || image.channels == 3) &&
                image.pixels.size() == static_cast<size_t>(image.numel()),
            "[image] cannot write ", path.string(), ": expected a non-empty 1- or 3-channel "
            "image with height*width*channels pixels, got ", image.height, "x", image.width, "x",
            image.channels, " with ", image.pixels.size(), " bytes");
}
}  // namespace

void write_png(const std::filesystem::path& path, const Image& image) {
  check_image(image, path);
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  if (!png_image_write_to_file(&png, path.string().c_str(), 0, image.pixels.data(), 0, nullptr)) {
    AR1_FAIL("[image] cannot write PNG ", path.string(), " (libpng: ", png.message,
             "); check that the folder exists and is writable");
  }
}

namespace {
struct JpegWriteError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};
void jpeg_write_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegWriteError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

bool encode_jpeg_raw(std::FILE* file, const Image& image, int quality, JpegWriteError* err) {
  jpeg_compress_struct cinfo;
  cinfo.err = jpeg_std_error(&err->mgr);
  err->mgr.error_exit = jpeg_write_error_exit;
  if (setjmp(err->jump)) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, file);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = static_cast<int>(image.channels);
  cinfo.in_color_space = image.channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = static_cast<size_t>(image.width * image.channels);
  while (cinfo.next_scanline < cinfo.image_height) {
    // libjpeg takes non-const rows but does not write to them.
    auto* row = const_cast<JSAMPLE*>(image.pixels.data() + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}
}  // namespace

void write_jpeg(const std::filesystem::path& path, const Image& image, int quality) {
  check_image(image, path);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.string().c_str(), "wb"),
                                                       &std::fclose);
  AR1_CHECK(file != nullptr, "[image] cannot open ", path.string(),
            " for writing; check that the folder exists and is writable");
  JpegWriteError err;
  err.message[0] = '\0';
  AR1_CHECK(encode_jpeg_raw(file.get(), image, quality, &err), "[image] cannot write JPEG ",
            path.string(), " (libjpeg: ", err.message, ")");
}

}  // namespace ar1::data
