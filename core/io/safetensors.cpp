#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <unordered_set>

#include "core/io/atomic_file.h"
#include "core/io/safetensors_header.h"

namespace ar1 {

// The data buffer is little-endian; we copy it into tensors as is.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace {

constexpr const char* kTag = "[safetensors] ";

// ---------------------------------------------------------------- POSIX helpers

std::string errno_text(int err) { return std::strerror(err); }

// Owns a file descriptor open for reading.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads exactly `n` bytes at `offset`; returns the errno, or -1 for an early end of file.
int read_exact(int fd, void* dst, size_t n, uint64_t offset) {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    const size_t chunk = std::min<size_t>(n, size_t{1} << 30);
    const ssize_t got = ::pread(fd, p, chunk, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (got == 0) return -1;
    p += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return 0;
}

// ---------------------------------------------------------------- header length

void put_u64_le(unsigned char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<unsigned char>(v >> (8 * i));
}

uint64_t get_u64_le(const unsigned char* src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(src[i]) << (8 * i);
  return v;
}

}  // namespace

// ---------------------------------------------------------------- SafetensorsFile

const Tensor& SafetensorsFile::at(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) {
    std::string have;
    for (size_t i = 0; i < tensors_.size() && i < 8; ++i)
      have += (i ? ", " : "") + tensors_[i].first;
    if (tensors_.size() > 8) have += ", ...";
    AR1_FAIL(kTag, source_, " has no tensor \"", name, "\" (it has ", tensors_.size(), ": ",
             have, "); check the name or the file");
  }
  return tensors_[it->second].second;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [n, t] : tensors_) out.push_back(n);
  return out;
}

void SafetensorsFile::add(std::string name, Tensor t) {
  AR1_CHECK(index_.count(name) == 0, kTag, "tensor \"", name, "\" added twice to ", source_);
  index_.emplace(name, tensors_.size());
  tensors_.emplace_back(std::move(name), std::move(t));
}

// ---------------------------------------------------------------- save

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata) {
  const std::string where = path.string();
  // Check everything before touching the file system.
  AR1_CHECK(path.has_filename(), kTag, "cannot save to \"", where,
            "\": it names a directory; give a file name such as model.safetensors");
  std::unordered_set<std::string> names;
  for (const auto& [name, t] : tensors) {
    AR1_CHECK(!name.empty(), kTag, "saving ", where,
              ": a tensor has an empty name; give every tensor a name");
    AR1_CHECK(name != kSafetensorsMetadataKey, kTag, "saving ", where,
              ": \"__metadata__\" is reserved by the format; rename that tensor");
    AR1_CHECK(names.insert(name).second, kTag, "saving ", where, ": tensor name \"", name,
              "\" appears twice; names must be unique");
    AR1_CHECK(t.defined(), kTag, "saving ", where, ": tensor \"", name,
              "\" is undefined; pass a tensor with a value");
    AR1_CHECK(t.device().is_cpu(), kTag, "saving ", where, ": tensor \"", name, "\" is ",
              t.describe(), "; copy it to the cpu first (.to(Device::cpu()))");
  }

  // Header: tensors in the caller's order, laid out back to back.
  std::string header = safetensors_header_json(tensors, metadata, where);
  // Pad with spaces so the data buffer starts 8-byte aligned in the file.
  header.append((8 - (8 + header.size()) % 8) % 8, ' ');
  AR1_CHECK(header.size() <= kSafetensorsMaxHeader, kTag, "saving ", where, ": header of ",
            header.size(), " bytes exceeds the ", kSafetensorsMaxHeader,
            "-byte limit readers enforce; save fewer tensors per file");

  AtomicFile file(path, "safetensors");
  unsigned char len[8];
  put_u64_le(len, header.size());
  file.write(len, sizeof len, "the header length");
  file.write(header, "the header");
  std::vector<char> staging;  // only for strided tensors
  for (const auto& [name, t] : tensors) {
    const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
    if (bytes == 0) continue;
    const void* src = t.raw_data();
    if (!t.is_contiguous()) {
      staging.resize(bytes);
      copy_to_contiguous(t, staging.data());
      src = staging.data();
    }
    file.write(src, bytes, "tensor data");
  }
  file.commit();
}

// ---------------------------------------------------------------- load

SafetensorsFile load_safetensors(const std::filesystem::path& path) {
  const std::string where = path.string();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  AR1_CHECK(fd.get() >= 0, kTag, "cannot open ", where, ": ", errno_text(errno),
            "; check the path");
  struct stat st{};
  AR1_CHECK(::fstat(fd.get(), &st) == 0, kTag, "cannot stat ", where, ": ", errno_text(errno));
  AR1_CHECK(S_ISREG(st.st_mode), kTag, where, " is not a regular file; give a .safetensors file");
  const auto file_size = static_cast<uint64_t>(st.st_size);
  AR1_CHECK(file_size >= 8, kTag, where, ": file of ", file_size,
            " bytes is shorter than the 8-byte header length; it is truncated or not a "
            "safetensors file");

  unsigned char len_bytes[8];
  int err = read_exact(fd.get(), len_bytes, 8, 0);
  AR1_CHECK(err == 0, kTag, "reading ", where, ": ",
            err < 0 ? "unexpected end of file" : errno_text(err));
  const uint64_t header_len = get_u64_le(len_bytes);
  AR1_CHECK(header_len >= 2, kTag, where, ": header length ", header_len,
            " is too small (at least 2 bytes, \"{}\"); the file is corrupt or not safetensors");
  AR1_CHECK(header_len <= kSafetensorsMaxHeader, kTag, where, ": header length ", header_len,
            " exceeds the ", kSafetensorsMaxHeader,
            "-byte limit; the file is corrupt or not safetensors");
  AR1_CHECK(header_len <= file_size - 8, kTag, where, ": header length ", header_len,
            " runs past the end of the ", file_size,
            "-byte file; the file is truncated (re-download or re-export it)");

  std::string header(header_len, '\0');
  err = read_exact(fd.get(), header.data(), header_len, 8);
  AR1_CHECK(err == 0, kTag, "reading the header of ", where, ": ",
            err < 0 ? "unexpected end of file" : errno_text(err));

  // Validate everything before allocating any tensor.
  const uint64_t data_start = 8 + header_len;
  SafetensorsHeader parsed = parse_safetensors_header(header, file_size - data_start, where);

  SafetensorsFile out;
  out.set_source(where);
  out.mutable_metadata() = std::move(parsed.metadata);
  for (const SafetensorsEntry& e : parsed.entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    const size_t bytes = static_cast<size_t>(e.end - e.begin);
    if (bytes > 0) {
      err = read_exact(fd.get(), t.raw_data(), bytes, data_start + e.begin);
      AR1_CHECK(err == 0, kTag, "reading tensor \"", e.name, "\" of ", where, ": ",
                err < 0 ? "unexpected end of file (was it truncated while reading?)"
                        : errno_text(err));
    }
    out.add(e.name, std::move(t));
  }
  return out;
}

}  // namespace ar1
