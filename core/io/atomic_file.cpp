#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <streambuf>

#include "core/error.h"

namespace ar1 {

namespace {

// Writes all `n` bytes; returns 0 or the errno.
int write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t put = ::write(fd, p, std::min<size_t>(n, size_t{1} << 30));
    if (put < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += put;
    n -= static_cast<size_t>(put);
  }
  return 0;
}

std::filesystem::path directory_of(const std::filesystem::path& target) {
  return target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
}

// Best effort: the rename already happened; this only makes it durable across a crash.
void fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Removes the temporary files ".<name>.tmp.<pid>.<n>" of `target` left by processes that no
// longer exist (killed, or powered off, in the middle of a save): a device killed now and then
// would otherwise gather one per kill. A file whose pid is alive (this process, or another
// saving the same target) is kept. Best effort: a file that cannot be removed stays.
void remove_stale_temporaries(const std::filesystem::path& target) {
  std::string prefix(1, '.');  // appended: GCC 12 warns falsely (-Wrestrict) on "." + string
  prefix += target.filename().string();
  prefix += ".tmp.";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory_of(target), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos ||
        !std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(dot),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    const long pid = std::strtol(rest.substr(0, dot).c_str(), nullptr, 10);
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace

class AtomicFile::Impl final : public std::streambuf {
 public:
  Impl(std::filesystem::path path, std::string component, Options options)
      : path_(std::move(path)), component_(std::move(component)),
        keep_if_abandoned_(options.keep_if_abandoned), stream_(this) {
    AR1_CHECK(path_.has_filename(), "[", component_, "] cannot save to \"", path_.string(),
              "\": it names a directory; give a file name");
    if (options.temp_path.empty()) {
      remove_stale_temporaries(path_);
      create_unique();
    } else {
      temp_ = std::move(options.temp_path);
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      AR1_CHECK(fd_ >= 0, "[", component_, "] cannot create a temporary file ", temp_.string(),
                " to save ", path_.string(), ": ", std::strerror(errno),
                "; check that the directory exists and is writable");
    }
    setp(buffer_, buffer_ + sizeof buffer_);
  }

  ~Impl() override {
    if (committed_ || failed_) return;
    if (keep_if_abandoned_) {
      drain();  // what was written so far, for the user to inspect; errors no longer matter
      ::close(fd_);
    } else {
      discard();
    }
  }

  void write(const void* data, size_t bytes, std::string_view what) {
    AR1_CHECK(!committed_, "[", component_, "] writing to ", path_.string(),
              " after commit(); write everything before committing");
    flush();  // buffered stream() output comes first
    const int err = write_all(fd_, static_cast<const char*>(data), bytes);
    if (err != 0) fail(std::string("writing ") + std::string(what), err);
  }

  std::ostream& stream() { return stream_; }

  void flush() {
    AR1_CHECK(!failed_, "[", component_, "] saving ", path_.string(),
              ": an earlier write failed and the temporary file is gone; start a new save");
    if (committed_) return;
    const int err = stream_error_ != 0 ? stream_error_ : drain();
    if (err != 0) fail("writing data", err);
  }

  void commit() {
    if (committed_) return;
    flush();
    if (::fsync(fd_) != 0) fail("flushing to disk (fsync)", errno);
    const int closed = ::close(fd_);
    fd_ = -1;  // closed even when close() reports an error
    if (closed != 0) fail("closing the temporary file", errno);
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
      fail("renaming " + temp_.string() + " to " + path_.string(), errno);
    }
    committed_ = true;
    fsync_directory(directory_of(path_));
  }

  bool committed() const { return committed_; }
  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_; }

 protected:
  // std::streambuf: the buffer is full (or `c` does not fit); an error is kept for flush().
  int_type overflow(int_type c) override {
    if (drain() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() == 0 ? 0 : -1; }

 private:
  void create_unique() {
    // Unique across the threads of this process; the pid makes it unique across processes.
    static std::atomic<uint64_t> counter{0};
    const std::filesystem::path dir = directory_of(path_);
    for (int attempt = 0; attempt < 100; ++attempt) {
      // Built by appending: GCC 12 warns falsely (-Wrestrict) on "." + std::string.
      std::string name(1, '.');
      name += path_.filename().string();
      name += ".tmp.";
      name += std::to_string(::getpid());
      name += '.';
      name += std::to_string(counter++);
      temp_ = dir / name;
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) return;
      AR1_CHECK(errno == EEXIST, "[", component_, "] cannot create a temporary file in ",
                dir.string(), " to save ", path_.string(), ": ", std::strerror(errno),
                "; check that the directory exists and is writable");
    }
    AR1_FAIL("[", component_, "] cannot find a free temporary file name in ", dir.string(),
             " to save ", path_.string(), "; remove stale .", path_.filename().string(),
             ".tmp.* files");
  }

  // Writes the stream buffer out; returns 0 or the errno (also kept for flush()).
  int drain() {
    if (stream_error_ != 0) return stream_error_;
    const int err = write_all(fd_, pbase(), static_cast<size_t>(pptr() - pbase()));
    setp(buffer_, buffer_ + sizeof buffer_);
    stream_error_ = err;
    return err;
  }

  void discard() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(temp_.c_str());
  }

  [[noreturn]] void fail(const std::string& step, int err) {
    discard();
    failed_ = true;
    AR1_FAIL("[", component_, "] saving ", path_.string(), ": ", step, " failed: ",
             std::strerror(err), "; check free disk space, quotas and permissions (",
             path_.string(), " was left as it was)");
  }

  std::filesystem::path path_, temp_;
  std::string component_;
  bool keep_if_abandoned_;
  int fd_ = -1;
  bool committed_ = false;
  bool failed_ = false;  // the temporary file is gone
  int stream_error_ = 0;
  char buffer_[1 << 16];
  std::ostream stream_;
};

AtomicFile::AtomicFile(std::filesystem::path path, std::string component)
    : AtomicFile(std::move(path), std::move(component), Options{}) {}

AtomicFile::AtomicFile(std::filesystem::path path, std::string component, Options options)
    : impl_(std::make_unique<Impl>(std::move(path), std::move(component), std::move(options))) {}

AtomicFile::~AtomicFile() = default;

void AtomicFile::write(const void* data, size_t bytes, std::string_view what) {
  impl_->write(data, bytes, what);
}
std::ostream& AtomicFile::stream() { return impl_->stream(); }
void AtomicFile::flush() { impl_->flush(); }
void AtomicFile::commit() { impl_->commit(); }
bool AtomicFile::committed() const { return impl_->committed(); }
const std::filesystem::path& AtomicFile::path() const { return impl_->path(); }
const std::filesystem::path& AtomicFile::temp_path() const { return impl_->temp_path(); }

void write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                           const std::string& component) {
  AtomicFile file(path, component);
  file.write(contents);
  file.commit();
}

}  // namespace ar1
