#pragma once
// A folder of class sub-folders (root/<class name>/<image>.png|.jpg|.jpeg), like torchvision's
// ImageFolder: classes are the sub-folder names in sorted order, numbered from 0; images are
// the files with a PNG or JPEG extension (any case), sorted by name. Other files are ignored.
// Images are decoded on access.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace ar1::data {

struct ImageFolder {
  std::shared_ptr<const FileListDataset> dataset;
  std::vector<std::string> class_names;  // class id -> sub-folder name
};

ImageFolder load_image_folder(const std::filesystem::path& root);

}  // namespace ar1::data
