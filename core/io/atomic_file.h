#pragma once
// AtomicFile: writes a file so that a reader sees the old file or the complete new one, never a
// part of it. The bytes go to a temporary file in the target's directory (rename() cannot cross
// file systems); commit() fsyncs it, closes it, renames it over the target and fsyncs the
// directory, so that the new file survives a crash. On any error the temporary file is removed
// and the target is left as it was; an error is an ar1::Error that starts with "[component]".
// A writer destroyed without commit() removes its temporary file too, unless it was opened with
// keep_if_abandoned (the run loggers: a failed run leaves "metrics.jsonl.partial" to inspect).
// A process killed while writing cannot: the next save of the same target removes the
// temporary files of processes that no longer exist.
//
// Every file ar1 writes goes through here: safetensors checkpoints, the report, the run
// directory's files and the loggers' outputs.
//
// Usage:
//   write_file_atomically("run/config.json", text, "ar1");
//
//   AtomicFile f("ckpt.safetensors", "safetensors");
//   f.write(header.data(), header.size(), "the header");  // "what" names the step in errors
//   f.stream() << "text";                                 // or formatted, buffered
//   f.commit();
#include <cstddef>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace ar1 {

class AtomicFile {
 public:
  struct Options {
    // The temporary file's name; empty: a fresh hidden ".<name>.tmp.<pid>.<n>" beside the
    // target. A given name is truncated if it exists (a stale one from an earlier run).
    std::filesystem::path temp_path;
    // Keep the temporary file when the writer is destroyed without commit() and without a write
    // error.
    bool keep_if_abandoned = false;
  };

  // Creates the temporary file; `component` names the writer in errors ("safetensors").
  AtomicFile(std::filesystem::path path, std::string component);
  AtomicFile(std::filesystem::path path, std::string component, Options options);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends `bytes` bytes; `what` ("tensor data") names the step if it fails.
  void write(const void* data, size_t bytes, std::string_view what = "data");
  void write(std::string_view text, std::string_view what = "data") {
    write(text.data(), text.size(), what);
  }
  // Formatted output, buffered: it reaches the file at flush(), commit() or when the buffer
  // fills; an error there is reported by the next flush() or commit().
  std::ostream& stream();
  void flush();
  // Puts the file in place; later calls do nothing.
  void commit();

  bool committed() const;
  const std::filesystem::path& path() const;
  const std::filesystem::path& temp_path() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The whole of `contents` to `path` through an AtomicFile.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                           const std::string& component);

}  // namespace ar1
