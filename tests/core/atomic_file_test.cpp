// AtomicFile: the new contents appear whole under the final name or not at all, and no
// temporary file outlives a failed write or an abandoned writer.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "tests/support/file_size_limit.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;

namespace {

using ar1::testing::FileSizeLimit;
using ar1::testing::TempDir;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("atomic file replaces the old contents and leaves only the final file") {
  TempDir dir("atomic_file");
  const fs::path p = dir / "out.txt";
  std::ofstream(p) << "old";
  ar1::write_file_atomically(p, "new contents\n", "test");
  CHECK(read_text(p) == "new contents\n");
  CHECK(dir.entries() == std::vector<std::string>{"out.txt"});
}

TEST_CASE("atomic file puts raw writes and stream output in order and nothing before commit") {
  TempDir dir("atomic_file");
  const fs::path p = dir / "mixed.bin";
  ar1::AtomicFile f(p, "test");
  CHECK(f.temp_path().parent_path() == dir.path);  // same directory: rename stays atomic
  f.stream() << "a" << 1;
  f.write("b2");
  f.stream() << 'c';
  f.flush();
  CHECK_FALSE(fs::exists(p));
  CHECK(read_text(f.temp_path()) == "a1b2c");
  f.commit();
  f.commit();  // a second commit does nothing
  CHECK(f.committed());
  CHECK(read_text(p) == "a1b2c");
  CHECK(dir.entries() == std::vector<std::string>{"mixed.bin"});
}

TEST_CASE("atomic file on a write error leaves nothing under the final name and no temp file") {
  TempDir dir("atomic_file");
  const fs::path p = dir / "big.bin";
  const std::string payload(64 * 1024, 'x');
  std::string message;
  {
    FileSizeLimit limit(4096);
    try {
      ar1::write_file_atomically(p, payload, "test");
    } catch (const ar1::Error& e) {
      message = e.what();
    }
  }
  INFO("message: ", message);
  CHECK(message.rfind("[test] saving ", 0) == 0);
  CHECK(message.find("writing data failed") != std::string::npos);
  CHECK(dir.entries().empty());

  // The same through the buffered stream, over an existing file: the old file stays.
  std::ofstream(p) << "old";
  message.clear();
  {
    FileSizeLimit limit(4096);
    try {
      ar1::AtomicFile f(p, "test");
      f.stream() << payload;
      f.commit();
    } catch (const ar1::Error& e) {
      message = e.what();
    }
  }
  CHECK(message.find("failed") != std::string::npos);
  CHECK(read_text(p) == "old");
  CHECK(dir.entries() == std::vector<std::string>{"big.bin"});
}

TEST_CASE("atomic file abandoned without commit removes its temp file unless asked to keep it") {
  TempDir dir("atomic_file");
  {
    ar1::AtomicFile f(dir / "dropped.txt", "test");
    f.stream() << "half";
  }
  CHECK(dir.entries().empty());

  ar1::AtomicFile::Options keep;
  keep.temp_path = dir / "kept.txt.partial";
  keep.keep_if_abandoned = true;
  {
    ar1::AtomicFile f(dir / "kept.txt", "test", keep);
    f.stream() << "half";
  }
  CHECK(dir.entries() == std::vector<std::string>{"kept.txt.partial"});
  CHECK(read_text(dir / "kept.txt.partial") == "half");
}

TEST_CASE("atomic file removes the temporary files of dead processes and keeps live ones") {
  TempDir dir("atomic_file");
  // A process that has ended (a save killed midway leaves such a file), and this process's
  // parent, which is alive.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);
  const std::string dead = ".model.bin.tmp." + std::to_string(child) + ".0";
  const std::string live = ".model.bin.tmp." + std::to_string(::getppid()) + ".3";
  for (const std::string& name : {dead, live, std::string(".other.bin.tmp.1.0"),
                                  std::string(".model.bin.tmp.x.0")}) {
    std::ofstream(dir / name) << "half";
  }
  ar1::write_file_atomically(dir / "model.bin", "whole", "test");
  CHECK(read_text(dir / "model.bin") == "whole");
  // Only the dead process's file of this target is gone; other names are not ours to judge.
  std::vector<std::string> left = dir.entries();
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<std::string>{live, ".model.bin.tmp.x.0", ".other.bin.tmp.1.0",
                                         "model.bin"});
}

TEST_CASE("atomic file into a missing directory names it and creates nothing") {
  TempDir dir("atomic_file");
  const fs::path p = dir / "no_such_dir" / "x.txt";
  CHECK_THROWS_WITH_AS(ar1::write_file_atomically(p, "x", "test"),
                       doctest::Contains("[test] cannot create a temporary file in"),
                       ar1::Error);
  CHECK(dir.entries().empty());
}
