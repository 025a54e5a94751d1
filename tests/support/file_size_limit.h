#pragma once
// A full disk, as a test can make it without root: while a FileSizeLimit lives, this process's
// writes past `bytes` fail with EFBIG (RLIMIT_FSIZE; SIGXFSZ, which would kill it, ignored).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>

namespace ar1::testing {

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
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  struct sigaction previous_ {};
  rlimit saved_{};
};

}  // namespace ar1::testing
