#pragma once
// An output file that is written as "<path>.partial" while a run goes and renamed to <path> by
// commit(): a run that dies half-way leaves only the .partial file, never one that looks
// complete. Opening removes a stale <path> from an earlier run for the same reason.
//
// The destructor commits too, except while an exception is unwinding the stack (the run
// failed: the .partial file stays). A write error removes the .partial file and throws. The
// writing itself is core's AtomicFile (core/io/atomic_file.h). Used by every file logger in
// strategy/loggers/.
#include <filesystem>
#include <ostream>
#include <string>

#include "core/io/atomic_file.h"

namespace ar1::strategy {

class PartialFile {
 public:
  // `component` names the logger in error messages ("[csv_logger] ...").
  PartialFile(const std::filesystem::path& path, const std::string& component);
  ~PartialFile();
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  std::ostream& stream() { return file_.stream(); }
  void flush() { file_.flush(); }
  // Closes the file and renames <path>.partial to <path>; later calls do nothing.
  void commit() { file_.commit(); }
  bool committed() const { return file_.committed(); }

  const std::filesystem::path& path() const { return file_.path(); }
  const std::filesystem::path& partial_path() const { return file_.temp_path(); }

 private:
  AtomicFile file_;
  int uncaught_at_open_ = 0;
};

}  // namespace ar1::strategy
