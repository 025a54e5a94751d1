#pragma once
// Scenario file lists: one "relative/path.png label" per line (CORe50's batches_filelists).
// Blank lines are skipped; everything else must parse, carry a label in [0, num_classes)
// and, when check_paths is set, name a file that exists under image_root. Errors give the
// list's path and line number.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace ar1::data {

struct FileList {
  std::vector<std::filesystem::path> paths;  // image_root / relative path
  std::vector<int64_t> labels;
};

FileList read_file_list(const std::filesystem::path& list, const std::filesystem::path& image_root,
                        int64_t num_classes, bool check_paths = true);

}  // namespace ar1::data
