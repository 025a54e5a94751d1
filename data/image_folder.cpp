#include "data/image_folder.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace ar1::data {

namespace {
bool is_image_name(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}
}  // namespace

ImageFolder load_image_folder(const std::filesystem::path& root) {
  AR1_CHECK(std::filesystem::is_directory(root), "[image_folder] ", root.string(),
            ": expected a folder of class sub-folders, found no such folder");
  std::vector<std::filesystem::path> class_dirs;
  for (const auto& entry : std::filesystem::directory_iterator(root))
    if (entry.is_directory()) class_dirs.push_back(entry.path());
  std::sort(class_dirs.begin(), class_dirs.end());
  AR1_CHECK(!class_dirs.empty(), "[image_folder] ", root.string(),
            ": expected one sub-folder per class, found none; put each class's images in "
            "root/<class name>/");

  ImageFolder out;
  std::vector<std::filesystem::path> paths;
  std::vector<int64_t> targets;
  for (size_t c = 0; c < class_dirs.size(); ++c) {
    out.class_names.push_back(class_dirs[c].filename().string());
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(class_dirs[c]))
      if (entry.is_regular_file() && is_image_name(entry.path())) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      paths.push_back(std::move(f));
      targets.push_back(static_cast<int64_t>(c));
    }
  }
  AR1_CHECK(!paths.empty(), "[image_folder] ", root.string(),
            ": expected .png/.jpg/.jpeg files in the class sub-folders, found none");
  out.dataset = std::make_shared<const FileListDataset>(
      std::move(paths), std::move(targets), static_cast<int64_t>(class_dirs.size()),
      root.string());
  return out;
}

}  // namespace ar1::data
