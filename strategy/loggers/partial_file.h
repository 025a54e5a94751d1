#pragma once
// An output file that is written as "<path>.partial" while a run goes and renamed to <path> by
// commit(): a run that dies half-way leaves only the .partial file, never one that looks
// complete. Opening removes a stale <path> from an earlier run for the same reason.
//
// The destructor commits too, except while an exception is unwinding the stack (the run
// failed: the .partial file stays). Used by every file logger in strategy/loggers/.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace ar1::strategy {

class PartialFile {
 public:
  // `component` names the logger in error messages ("[csv_logger] ...").
  PartialFile(std::filesystem::path path, std::string component);
  ~PartialFile();
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  std::ostream& stream() { return out_; }
  void flush();
  // Closes the file and renames <path>.partial to <path>; later calls do nothing.
  void commit();
  bool committed() const { return committed_; }

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path partial_path() const;

 private:
  std::filesystem::path path_;
  std::string component_;
  std::ofstream out_;
  bool committed_ = false;
  int uncaught_at_open_ = 0;
};

}  // namespace ar1::strategy
