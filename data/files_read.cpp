#include "data/files_read.h"

#include <mutex>
#include <set>

namespace ar1::data {

namespace {

std::mutex mutex;
std::set<std::string>& registry() {
  static std::set<std::string> paths;
  return paths;
}

}  // namespace

void note_file_read(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) absolute = path;
  std::lock_guard lock(mutex);
  registry().insert(absolute.lexically_normal().string());
}

std::vector<std::string> files_read() {
  std::lock_guard lock(mutex);
  return {registry().begin(), registry().end()};
}

}  // namespace ar1::data
