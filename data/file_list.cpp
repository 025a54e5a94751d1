#include "data/file_list.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <istream>
#include <string>
#include <system_error>

#include "core/error.h"
#include "data/files_read.h"
#include "data/input_limits.h"

namespace ar1::data {

namespace {

// A line is a path and a label: one longer than this is not a file list's.
constexpr size_t kMaxLineBytes = 64 * 1024;

// std::getline that refuses a line longer than kMaxLineBytes instead of growing without bound.
bool read_bounded_line(std::istream& in, std::string& line, const std::filesystem::path& list,
                       int64_t line_no) {
  line.clear();
  int c;
  while ((c = in.get()) != std::char_traits<char>::eof()) {
    if (c == '\n') return true;
    line.push_back(static_cast<char>(c));
    AR1_CHECK(line.size() <= kMaxLineBytes, "[file_list] ", list.string(), ":", line_no,
              ": a line longer than ", kMaxLineBytes, " bytes; the file is not a file list");
  }
  return !line.empty();
}

}  // namespace

FileList read_file_list(const std::filesystem::path& list, const std::filesystem::path& image_root,
                        int64_t num_classes, bool check_paths) {
  std::ifstream in(list);
  AR1_CHECK(in.good(), "[file_list] cannot open ", list.string(),
            ": expected a file list (\"path label\" per line); check the dataset root");
  note_file_read(list);
  FileList out;
  std::string line;
  int64_t line_no = 0;
  const uint64_t max_lines = input_limits().file_list_lines;
  while (read_bounded_line(in, line, list, line_no + 1)) {
    ++line_no;
    AR1_CHECK(static_cast<uint64_t>(line_no) <= max_lines, "[file_list] ", list.string(),
              ": more than ", max_lines, " lines (the limit per list); the file is not a file "
              "list, or raise the limit with AR1_MAX_FILE_LIST_LINES");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t");
    const std::string body = line.substr(first, last - first + 1);
    const auto split = body.find_last_of(" \t");
    AR1_CHECK(split != std::string::npos, "[file_list] ", list.string(), ":", line_no,
              ": expected \"relative/path label\", found \"", body, "\"");
    const std::string rel = body.substr(0, body.find_last_not_of(" \t", split) + 1);
    const std::string label_text = body.substr(split + 1);
    int64_t label = -1;
    const auto [ptr, ec] =
        std::from_chars(label_text.data(), label_text.data() + label_text.size(), label);
    AR1_CHECK(ec == std::errc() && ptr == label_text.data() + label_text.size(), "[file_list] ",
              list.string(), ":", line_no, ": expected an integer label after the path, found \"",
              label_text, "\"");
    AR1_CHECK(label >= 0 && label < num_classes, "[file_list] ", list.string(), ":", line_no,
              ": label ", label, " out of range, expected [0, ", num_classes,
              "); the list is corrupt or belongs to another dataset");
    std::filesystem::path path = image_root / rel;
    if (check_paths) {
      // The error_code overload: a name the file system refuses (a component over NAME_MAX,
      // found by tests/fuzz/fuzz_file_list) is a bad line, not an exception of another kind.
      std::error_code ec;
      const bool found = std::filesystem::is_regular_file(path, ec);
      const bool missing = !ec || ec == std::errc::no_such_file_or_directory ||
                           ec == std::errc::not_a_directory;
      AR1_CHECK(found, "[file_list] ", list.string(), ":", line_no, ": image ", path.string(),
                missing ? std::string(" does not exist")
                        : " cannot be looked up (" + ec.message() + ")",
                "; expected the images under ", image_root.string(),
                " (extract the image archive there)");
    }
    out.paths.push_back(std::move(path));
    out.labels.push_back(label);
  }
  return out;
}

}  // namespace ar1::data
