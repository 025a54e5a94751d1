// AtomicFile: the new contents appear whole under the final name or not at all, and no
// temporary file outlives a failed write or an abandoned writer.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;

namespace {

using ar1::testing::TempDir;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Makes writes past `bytes` fail with EFBIG (not the default SIGXFSZ kill) while alive.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    REQUIRE(::sigaction(SIGXFSZ, &ignore, &previous_) == 0);
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    rlimit small = saved_;
    small.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::sigaction(SIGXFSZ, &previous_, nullptr);
  }

 private:
  struct sigaction previous_ {};
  rlimit saved_{};
};

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

TEST_CASE("atomic file into a missing directory names it and creates nothing") {
  TempDir dir("atomic_file");
  const fs::path p = dir / "no_such_dir" / "x.txt";
  CHECK_THROWS_WITH_AS(ar1::write_file_atomically(p, "x", "test"),
                       doctest::Contains("[test] cannot create a temporary file in"),
                       ar1::Error);
  CHECK(dir.entries().empty());
}
