#pragma once
// The dataset files this process has opened, for the run manifest (its SHA-256 of every file
// a run read). Every reader in data/ notes the files it opens here; the loader's worker
// threads may note at the same time.
#include <filesystem>
#include <string>
#include <vector>

namespace ar1::data {

// Adds `path` (made absolute) to the set; a path already there is not added again.
void note_file_read(const std::filesystem::path& path);
// Every path noted so far, sorted.
std::vector<std::string> files_read();

}  // namespace ar1::data
