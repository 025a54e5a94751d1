#pragma once
// A fresh directory under the system temp dir for one test case, removed at its end:
//   ar1::testing::TempDir dir("loggers");  // e.g. /tmp/ar1_loggers_<pid>_<n>
//   std::ofstream(dir / "a.txt") << "x";
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ar1::testing {

struct TempDir {
  std::filesystem::path path;

  explicit TempDir(const std::string& name = "test") {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("ar1_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path operator/(const std::string& name) const { return path / name; }
  // The names of the entries, in directory order.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path)) {
      out.push_back(e.path().filename());
    }
    return out;
  }
  // Writes `text` to the file `name` in the directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return path / name;
  }
};

}  // namespace ar1::testing
