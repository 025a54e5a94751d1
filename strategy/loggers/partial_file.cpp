#include "strategy/loggers/partial_file.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>

#include "core/error.h"

namespace ar1::strategy {

PartialFile::PartialFile(std::filesystem::path path, std::string component)
    : path_(std::move(path)), component_(std::move(component)),
      uncaught_at_open_(std::uncaught_exceptions()) {
  out_.open(partial_path(), std::ios::out | std::ios::trunc | std::ios::binary);
  if (!out_) {
    const int err = errno;
    AR1_FAIL("[", component_, "] cannot open ", partial_path(), " for writing (",
             std::strerror(err), "); create the directory or pass a writable path");
  }
  std::error_code ec;
  std::filesystem::remove(path_, ec);  // a stale complete file would look like this run's
}

PartialFile::~PartialFile() {
  if (committed_) return;
  if (std::uncaught_exceptions() > uncaught_at_open_) return;  // the run failed: keep .partial
  try {
    commit();
  } catch (...) {
    // A destructor must not throw; the .partial file is left for the user to inspect.
  }
}

std::filesystem::path PartialFile::partial_path() const {
  std::filesystem::path p = path_;
  p += ".partial";
  return p;
}

void PartialFile::flush() {
  if (!committed_) out_.flush();
}

void PartialFile::commit() {
  if (committed_) return;
  out_.flush();
  const bool write_ok = static_cast<bool>(out_);
  out_.close();
  AR1_CHECK(write_ok && !out_.fail(), "[", component_, "] writing ", partial_path(),
            " failed (disk full?); free space and run again");
  std::error_code ec;
  std::filesystem::rename(partial_path(), path_, ec);
  AR1_CHECK(!ec, "[", component_, "] cannot rename ", partial_path(), " to ", path_, " (",
            ec.message(), "); check the directory's permissions");
  committed_ = true;
}

}  // namespace ar1::strategy
