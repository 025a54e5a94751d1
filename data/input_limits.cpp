#include "data/input_limits.h"

#include <cerrno>
#include <cstdlib>

#include "core/error.h"

namespace ar1::data {

namespace {

void override_from(const char* name, uint64_t& limit) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return;
  char* end = nullptr;
  errno = 0;
  const unsigned long long parsed = std::strtoull(v, &end, 10);
  AR1_CHECK(errno == 0 && end != v && *end == '\0' && parsed > 0, "[limits] ", name, "='", v,
            "' is not a positive integer");
  limit = parsed;
}

}  // namespace

InputLimits input_limits() {
  InputLimits l;
  override_from("AR1_MAX_IMAGE_PIXELS", l.image_pixels);
  override_from("AR1_MAX_IDX_BYTES", l.idx_bytes);
  override_from("AR1_MAX_FILE_LIST_LINES", l.file_list_lines);
  return l;
}

}  // namespace ar1::data
