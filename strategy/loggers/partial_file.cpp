#include "strategy/loggers/partial_file.h"

#include <exception>
#include <system_error>

namespace ar1::strategy {

namespace {
AtomicFile::Options partial_beside(const std::filesystem::path& path) {
  AtomicFile::Options o;
  o.temp_path = path;
  o.temp_path += ".partial";
  o.keep_if_abandoned = true;  // a failed run's output stays readable
  return o;
}
}  // namespace

PartialFile::PartialFile(const std::filesystem::path& path, const std::string& component)
    : file_(path, component, partial_beside(path)), uncaught_at_open_(std::uncaught_exceptions()) {
  std::error_code ec;
  std::filesystem::remove(path, ec);  // a stale complete file would look like this run's
}

PartialFile::~PartialFile() {
  if (file_.committed()) return;
  if (std::uncaught_exceptions() > uncaught_at_open_) return;  // the run failed: keep .partial
  try {
    file_.commit();
  } catch (...) {
    // A destructor must not throw; the error was in the .partial file, which is gone.
  }
}

}  // namespace ar1::strategy
