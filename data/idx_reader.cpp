#include "data/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "core/error.h"
#include "data/files_read.h"
#include "data/input_limits.h"

namespace ar1::data {

namespace {

// gzread passes plain files through unchanged, so one path serves both kinds.
class GzFile {
 public:
  explicit GzFile(const std::filesystem::path& path) : path_(path.string()) {
    AR1_CHECK(std::filesystem::is_regular_file(path), "[idx] ", path_,
              ": expected an IDX file (plain or .gz), found no such file; check the path");
    file_ = gzopen(path_.c_str(), "rb");
    AR1_CHECK(file_ != nullptr, "[idx] cannot open ", path_, "; check permissions");
    note_file_read(path);
  }
  ~GzFile() {
    if (file_) gzclose(file_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads exactly n bytes; `what` names them in the error.
  void read(void* dst, size_t n, const char* what) {
    const size_t done = read_some(dst, n, what);
    AR1_CHECK(done == n, "[idx] ", path_, ": truncated file: expected ", n, " bytes of ", what,
              ", found ", done, "; download the file again");
  }

  // Reads up to n bytes, fewer only at the end of the data; returns how many.
  size_t read_some(void* dst, size_t n, const char* what) {
    auto* out = static_cast<uint8_t*>(dst);
    size_t done = 0;
    while (done < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
      const int got = gzread(file_, out + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* msg = gzerror(file_, &code);
        AR1_FAIL("[idx] ", path_, ": corrupt gzip stream while reading ", what, " (zlib: ", msg,
                 "); download the file again");
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }

  bool at_end() {
    uint8_t extra;
    return gzread(file_, &extra, 1) == 0;
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

uint32_t big_endian(const uint8_t* b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

std::filesystem::path find_variant(const std::filesystem::path& folder, const std::string& stem) {
  for (const char* suffix : {"", ".gz"}) {
    auto p = folder / (stem + suffix);
    if (std::filesystem::exists(p)) return p;
  }
  AR1_FAIL("[idx] ", folder.string(), ": expected ", stem, " or ", stem,
           ".gz, found neither; point at the folder holding the MNIST/Fashion-MNIST files "
           "(Debian: apt install dataset-fashion-mnist)");
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& path, int expected_dims) {
  GzFile file(path);
  uint8_t header[4];
  file.read(header, 4, "the magic number");
  const uint32_t magic = big_endian(header);
  const uint32_t want = 0x00000800u | static_cast<uint32_t>(expected_dims);
  char found[16], wanted[16];
  std::snprintf(found, sizeof found, "0x%08x", magic);
  std::snprintf(wanted, sizeof wanted, "0x%08x", want);
  AR1_CHECK(magic == want, "[idx] ", path.string(), ": expected magic ", wanted,
            " (unsigned bytes, ", expected_dims, " dimensions), found ", found,
            "; pass the ", expected_dims == 1 ? "labels (idx1)" : "images (idx3)", " file");
  IdxArray out;
  size_t total = 1;
  const uint64_t limit = input_limits().idx_bytes;
  for (int d = 0; d < expected_dims; ++d) {
    uint8_t size[4];
    file.read(size, 4, "the dimension sizes");
    out.dims.push_back(big_endian(size));
    total *= big_endian(size);  // each factor < 2^32 and the running product <= the limit
    AR1_CHECK(total <= limit, "[idx] ", path.string(), ": header declares more than ", limit,
              " bytes of data (the limit per array); the header is corrupt, or raise the limit "
              "with AR1_MAX_IDX_BYTES");
  }
  // The buffer grows with the data that arrives (doubling from 1 MiB), not with what the header
  // claims: a corrupt header on a small file (or a gzip stream that ends early) fails at the
  // file's true size instead of allocating gigabytes first (found by tests/fuzz/fuzz_idx).
  size_t done = 0;
  while (done < total) {
    const size_t want = std::min(total - done, std::max<size_t>(done, size_t{1} << 20));
    out.bytes.resize(done + want);
    const size_t got = file.read_some(out.bytes.data() + done, want, "data");
    done += got;
    AR1_CHECK(got == want, "[idx] ", path.string(), ": truncated file: the header declares ",
              total, " data bytes, found ", done, "; download the file again");
  }
  AR1_CHECK(file.at_end(), "[idx] ", path.string(), ": expected ", total,
            " data bytes after the header, found more; the file is not a single IDX array");
  return out;
}

std::shared_ptr<const InMemoryDataset> load_idx_dataset(const std::filesystem::path& images,
                                                        const std::filesystem::path& labels,
                                                        int64_t num_classes) {
  IdxArray img = read_idx(images, 3);
  IdxArray lab = read_idx(labels, 1);
  AR1_CHECK(img.dims[0] == lab.dims[0], "[idx] ", images.string(), " holds ", img.dims[0],
            " images but ", labels.string(), " holds ", lab.dims[0],
            " labels, expected the same count; pair the files of the same split");
  std::vector<int64_t> targets(lab.bytes.size());
  for (size_t i = 0; i < lab.bytes.size(); ++i) {
    AR1_CHECK(lab.bytes[i] < num_classes, "[idx] ", labels.string(), ": label #", i, " is ",
              int(lab.bytes[i]), ", expected a label in [0, ", num_classes,
              "); the file is corrupt or holds another dataset's labels");
    targets[i] = lab.bytes[i];
  }
  return std::make_shared<const InMemoryDataset>(std::move(img.bytes), img.dims[1], img.dims[2], 1,
                                                 std::move(targets), num_classes,
                                                 images.string());
}

std::shared_ptr<const InMemoryDataset> load_mnist_folder(const std::filesystem::path& folder,
                                                         Split split) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const auto images = find_variant(folder, prefix + "-images-idx3-ubyte");
  const auto labels = find_variant(folder, prefix + "-labels-idx1-ubyte");
  return load_idx_dataset(images, labels, 10);
}

}  // namespace ar1::data
