#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_set>

#include "core/io/atomic_file.h"

namespace ar1 {

// The data buffer is little-endian; we copy it into tensors as is.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace {

constexpr const char* kTag = "[safetensors] ";
constexpr const char* kMetadataKey = "__metadata__";

// ---------------------------------------------------------------- dtypes

struct DTypeName {
  DType dtype;
  std::string_view name;
};
constexpr DTypeName kDTypes[] = {
    {DType::f32, "F32"}, {DType::f16, "F16"}, {DType::bf16, "BF16"},
    {DType::i64, "I64"}, {DType::u8, "U8"},
};
// Valid in the format, but not a DType of ours: named in the error so the fix is obvious.
constexpr std::string_view kOtherFormatDTypes[] = {"F64", "I32", "I16", "I8", "U16", "U32",
                                                   "U64", "BOOL", "F8_E4M3", "F8_E5M2"};

std::string_view format_name(DType t) {
  for (const auto& d : kDTypes)
    if (d.dtype == t) return d.name;
  return "?";
}

bool parse_dtype(std::string_view name, DType* out) {
  for (const auto& d : kDTypes) {
    if (d.name == name) {
      *out = d.dtype;
      return true;
    }
  }
  return false;
}

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

// ---------------------------------------------------------------- header JSON
//
// The header uses a small subset of JSON: objects, strings and arrays of non-negative
// integers. The parser accepts exactly that (and JSON whitespace), rejects everything else
// with the byte position, and never nests deeper than the format does.

struct JsonValue {
  enum class Kind { object, string, int_array };
  Kind kind = Kind::string;
  size_t pos = 0;  // byte of the header where the value starts
  std::string str;
  std::vector<uint64_t> ints;
  std::vector<std::pair<std::string, JsonValue>> members;  // in file order
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  JsonValue parse_document() {
    skip_ws();
    if (peek() != '{') fail("expected '{' at the start of the header");
    JsonValue root = parse_object(0);
    skip_ws();
    if (pos_ != text_.size()) fail("unexpected data after the header object");
    return root;
  }

 private:
  static constexpr int kMaxDepth = 2;  // root -> tensor entry / metadata -> leaves

  [[noreturn]] void fail(const std::string& what) const {
    std::string found = pos_ < text_.size() ? "found '" + printable(text_[pos_]) + "'"
                                            : std::string("found the end of the header");
    AR1_FAIL(kTag, path_, ": malformed header JSON at byte ", pos_, ": ", what, ", ", found,
             "; the file is truncated, corrupt or not a safetensors file (re-export it)");
  }

  static std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string(1, c);
    static const char* hex = "0123456789abcdef";
    return std::string("\\x") + hex[u >> 4] + hex[u & 15];
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }

  void skip_ws() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  void expect(char c, const char* what) {
    skip_ws();
    if (peek() != c) fail(what);
    ++pos_;
  }

  JsonValue parse_value(int depth) {
    skip_ws();
    const char c = peek();
    if (c == '{') {
      if (depth >= kMaxDepth) fail("objects nest deeper than a safetensors header does");
      return parse_object(depth + 1);
    }
    if (c == '"') {
      JsonValue v;
      v.kind = JsonValue::Kind::string;
      v.pos = pos_;
      v.str = parse_string();
      return v;
    }
    if (c == '[') return parse_int_array();
    fail("expected an object, a string or an array of integers");
  }

  JsonValue parse_object(int depth) {
    JsonValue obj;
    obj.kind = JsonValue::Kind::object;
    obj.pos = pos_;
    ++pos_;  // '{'
    std::unordered_set<std::string> seen;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return obj;
    }
    for (;;) {
      skip_ws();
      if (peek() != '"') fail("expected a '\"' that starts a key");
      const size_t key_pos = pos_;
      std::string key = parse_string();
      if (!seen.insert(key).second) {
        pos_ = key_pos;
        fail(depth == 0 ? "tensor name \"" + key + "\" appears twice; names must be unique"
                        : "key \"" + key + "\" appears twice in one object");
      }
      expect(':', "expected ':' after a key");
      JsonValue value = parse_value(depth);
      obj.members.emplace_back(std::move(key), std::move(value));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return obj;
      }
      fail("expected ',' or '}' after a value");
    }
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  uint32_t parse_hex4() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      uint32_t d;
      if (c >= '0' && c <= '9') d = static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') d = static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') d = static_cast<uint32_t>(c - 'A' + 10);
      else fail("expected 4 hex digits after \\u");
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("raw control character in a string");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xdc00 && cp <= 0xdfff) fail("lone low surrogate in \\u escape");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (peek() != '\\' || pos_ + 1 >= text_.size() || text_[pos_ + 1] != 'u')
              fail("high surrogate without its low half");
            pos_ += 2;
            const uint32_t lo = parse_hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail("high surrogate without its low half");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          fail("unknown escape sequence");
      }
    }
  }

  JsonValue parse_int_array() {
    JsonValue arr;
    arr.kind = JsonValue::Kind::int_array;
    arr.pos = pos_;
    ++pos_;  // '['
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return arr;
    }
    for (;;) {
      skip_ws();
      arr.ints.push_back(parse_uint());
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return arr;
      }
      fail("expected ',' or ']' in an integer array");
    }
  }

  uint64_t parse_uint() {
    const char c = peek();
    if (c == '-') fail("negative number; shapes and offsets are non-negative integers");
    if (c < '0' || c > '9') fail("expected a non-negative integer");
    if (c == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' &&
        text_[pos_ + 1] <= '9')
      fail("integer with a leading zero");
    uint64_t v = 0;
    constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    while (peek() >= '0' && peek() <= '9') {
      const auto d = static_cast<uint64_t>(peek() - '0');
      if (v > (kMax - d) / 10) fail("integer too large");
      v = v * 10 + d;
      ++pos_;
    }
    if (peek() == '.' || peek() == 'e' || peek() == 'E') fail("expected an integer");
    return v;
  }

  std::string_view text_;
  const std::string& path_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------- header validation

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

const JsonValue* member(const JsonValue& obj, std::string_view key) {
  for (const auto& [k, v] : obj.members)
    if (k == key) return &v;
  return nullptr;
}

std::string join_shape(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

Entry parse_entry(const std::string& path, const std::string& name, const JsonValue& v) {
  const std::string where = path + ": tensor \"" + name + "\"";
  AR1_CHECK(v.kind == JsonValue::Kind::object, kTag, where,
            ": expected an object {\"dtype\", \"shape\", \"data_offsets\"}, found a ",
            v.kind == JsonValue::Kind::string ? "string" : "array", " at header byte ", v.pos,
            "; the file is corrupt (re-export it)");
  for (const auto& [k, unused] : v.members) {
    AR1_CHECK(k == "dtype" || k == "shape" || k == "data_offsets", kTag, where,
              ": unexpected key \"", k,
              "\"; a tensor entry has exactly dtype, shape and data_offsets (re-export it)");
  }
  const JsonValue* dtype = member(v, "dtype");
  const JsonValue* shape = member(v, "shape");
  const JsonValue* offsets = member(v, "data_offsets");
  AR1_CHECK(dtype && shape && offsets, kTag, where, ": missing ",
            !dtype ? "\"dtype\"" : !shape ? "\"shape\"" : "\"data_offsets\"",
            "; a tensor entry needs dtype, shape and data_offsets (re-export it)");
  AR1_CHECK(dtype->kind == JsonValue::Kind::string, kTag, where,
            ": \"dtype\" must be a string such as \"F32\"");
  AR1_CHECK(shape->kind == JsonValue::Kind::int_array, kTag, where,
            ": \"shape\" must be an array of integers");
  AR1_CHECK(offsets->kind == JsonValue::Kind::int_array && offsets->ints.size() == 2, kTag,
            where, ": \"data_offsets\" must be an array [begin, end] of two integers");

  Entry e;
  e.name = name;
  if (!parse_dtype(dtype->str, &e.dtype)) {
    const bool known = std::find(std::begin(kOtherFormatDTypes), std::end(kOtherFormatDTypes),
                                 dtype->str) != std::end(kOtherFormatDTypes);
    AR1_FAIL(kTag, where, ": dtype \"", dtype->str, "\" is ",
             known ? "not supported" : "unknown",
             "; expected one of F32, F16, BF16, I64, U8",
             known ? " (convert it before saving, e.g. tensor.float() in PyTorch)"
                   : " (the file is corrupt or from a newer format)");
  }

  // numel * itemsize, refusing anything that cannot fit in a file.
  const uint64_t item = dtype_size(e.dtype);
  uint64_t bytes = item;
  constexpr uint64_t kCap = uint64_t{1} << 62;
  for (uint64_t d : shape->ints) {
    AR1_CHECK(d == 0 || bytes <= kCap / d, kTag, where, ": shape ", join_shape(shape->ints),
              " is too large for any file; the header is corrupt (re-export it)");
    bytes *= d;
    e.shape.push_back(static_cast<int64_t>(d));
  }
  e.begin = offsets->ints[0];
  e.end = offsets->ints[1];
  AR1_CHECK(e.begin <= e.end, kTag, where, ": data_offsets [", e.begin, ", ", e.end,
            "] end before they begin; the header is corrupt (re-export it)");
  AR1_CHECK(e.end - e.begin == bytes, kTag, where, ": data_offsets [", e.begin, ", ", e.end,
            "] span ", e.end - e.begin, " bytes but ", dtype->str, " shape ",
            join_shape(shape->ints), " needs ", bytes,
            " (numel * itemsize); the header and data disagree (re-export it)");
  return e;
}

// Every tensor, sorted by offset, checked to tile [0, data_size) exactly: in range, no
// overlap, no gap and no trailing bytes (the format forbids holes).
std::vector<Entry> validate_header(const std::string& path, const JsonValue& root,
                                   uint64_t data_size, SafetensorsMetadata* metadata) {
  std::vector<Entry> entries;
  entries.reserve(root.members.size());
  for (const auto& [name, v] : root.members) {
    if (name == kMetadataKey) {
      AR1_CHECK(v.kind == JsonValue::Kind::object, kTag, path,
                ": \"__metadata__\" must be an object of strings (header byte ", v.pos, ")");
      for (const auto& [k, s] : v.members) {
        AR1_CHECK(s.kind == JsonValue::Kind::string, kTag, path, ": __metadata__ value \"", k,
                  "\" must be a string (header byte ", s.pos,
                  "); store numbers as strings when saving");
        (*metadata)[k] = s.str;
      }
      continue;
    }
    entries.push_back(parse_entry(path, name, v));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    AR1_CHECK(e.end <= data_size, kTag, path, ": tensor \"", e.name, "\" data_offsets [",
              e.begin, ", ", e.end, "] run past the data buffer of ", data_size,
              " bytes; the file is truncated or its header is corrupt (re-download it)");
    AR1_CHECK(e.begin >= covered, kTag, path, ": tensor \"", e.name, "\" bytes [", e.begin,
              ", ", e.end, ") overlap tensor \"", prev ? prev->name : "", "\" bytes [",
              prev ? prev->begin : 0, ", ", covered,
              "); every byte must belong to one tensor (re-export the file)");
    AR1_CHECK(e.begin == covered, kTag, path, ": gap of ", e.begin - covered,
              " bytes before tensor \"", e.name, "\" (data bytes [", covered, ", ", e.begin,
              ") belong to no tensor); the format forbids holes (re-export the file)");
    covered = e.end;
    prev = &e;
  }
  AR1_CHECK(covered == data_size, kTag, path, ": ", data_size - covered,
            " bytes after the last tensor belong to no tensor (data buffer ", data_size,
            " bytes, tensors end at ", covered, "); the file is corrupt (re-export it)");
  return entries;
}

// ---------------------------------------------------------------- header writing

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (u < 0x20) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

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
    AR1_CHECK(name != kMetadataKey, kTag, "saving ", where,
              ": \"__metadata__\" is reserved by the format; rename that tensor");
    AR1_CHECK(names.insert(name).second, kTag, "saving ", where, ": tensor name \"", name,
              "\" appears twice; names must be unique");
    AR1_CHECK(t.defined(), kTag, "saving ", where, ": tensor \"", name,
              "\" is undefined; pass a tensor with a value");
    AR1_CHECK(t.device().is_cpu(), kTag, "saving ", where, ": tensor \"", name, "\" is ",
              t.describe(), "; copy it to the cpu first (nn::to_device)");
  }

  // Header: tensors in the caller's order, laid out back to back.
  std::string header = "{";
  uint64_t offset = 0;
  bool first = true;
  if (!metadata.empty()) {
    append_json_string(header, kMetadataKey);
    header += ":{";
    bool first_kv = true;
    for (const auto& [k, v] : metadata) {
      if (!first_kv) header += ',';
      first_kv = false;
      append_json_string(header, k);
      header += ':';
      append_json_string(header, v);
    }
    header += '}';
    first = false;
  }
  for (const auto& [name, t] : tensors) {
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    if (!first) header += ',';
    first = false;
    append_json_string(header, name);
    header += ":{\"dtype\":\"";
    header += format_name(t.dtype());
    header += "\",\"shape\":[";
    for (size_t i = 0; i < t.shape().size(); ++i) {
      if (i) header += ',';
      header += std::to_string(t.shape()[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += '}';
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
  const JsonValue root = HeaderParser(header, where).parse_document();
  SafetensorsMetadata metadata;
  const uint64_t data_start = 8 + header_len;
  const std::vector<Entry> entries =
      validate_header(where, root, file_size - data_start, &metadata);

  SafetensorsFile out;
  out.set_source(where);
  out.mutable_metadata() = std::move(metadata);
  for (const Entry& e : entries) {
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
