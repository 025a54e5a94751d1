#include "core/io/safetensors_header.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/error.h"

namespace ar1 {

namespace {

// Ordered: a saved header lists the tensors in the caller's order.
using Json = nlohmann::ordered_json;

constexpr const char* kTag = "[safetensors] ";

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

// ---------------------------------------------------------------- parsing

std::string printable(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

// nlohmann's text reads "[json.exception.parse_error.101] parse error at line 1, column 9:
// why"; the position is given separately, so keep only "why".
std::string parse_error_reason(const char* what) {
  const std::string_view text(what);
  const size_t column = text.find("column ");
  const size_t colon = column == std::string_view::npos ? column : text.find(": ", column);
  return std::string(colon == std::string_view::npos ? text : text.substr(colon + 2));
}

// nlohmann reads "01" as a 0 followed by a stray 1: name the likely mistake. `at` counts the
// characters read, the offending one included.
std::string hint_at(std::string_view text, size_t at) {
  const auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  const bool leading_zero = at >= 2 && at <= text.size() && digit(at - 1) && text[at - 2] == '0' &&
                            (at < 3 || (!digit(at - 3) && text[at - 3] != '.'));
  return leading_zero ? " (an integer with a leading zero?)" : "";
}

// The header as JSON. Duplicate keys (the format gives them no meaning) and containers deeper
// than a header has are refused while parsing: root object -> tensor entry or metadata ->
// strings and integer arrays.
Json parse_json(std::string_view text, const std::string& path) {
  std::vector<std::unordered_set<std::string>> keys;  // one set per open object
  const auto check = [&](int depth, Json::parse_event_t event, Json& parsed) {
    using Event = Json::parse_event_t;
    // `depth` counts the containers already open.
    if (event == Event::object_start) {
      AR1_CHECK(depth < 2, kTag, path, ": malformed header: objects nest deeper than a "
                "safetensors header does (a tensor entry holds a string and two integer "
                "arrays); the file is corrupt or not a safetensors file (re-export it)");
      keys.emplace_back();
    } else if (event == Event::array_start) {
      AR1_CHECK(depth < 3, kTag, path, ": malformed header: arrays nest deeper than a "
                "safetensors header does (shape and data_offsets are flat integer arrays); "
                "the file is corrupt (re-export it)");
    } else if (event == Event::object_end) {
      keys.pop_back();
    } else if (event == Event::key) {
      const std::string& key = parsed.get_ref<const std::string&>();
      AR1_CHECK(keys.back().insert(key).second, kTag, path, ": malformed header: ",
                depth == 1 ? "tensor name \"" + key + "\" appears twice; names must be unique"
                           : "key \"" + key + "\" appears twice in one object",
                " (re-export the file)");
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), check);
  } catch (const Json::parse_error& e) {
    // e.byte counts the characters read, the offending one included.
    const size_t at = std::min<size_t>(e.byte, text.size());
    const size_t from = at > 24 ? at - 24 : 0;
    AR1_FAIL(kTag, path, ": malformed header JSON at byte ", e.byte, " (near '",
             printable(text.substr(from, at - from)), "'): ", parse_error_reason(e.what()),
             hint_at(text, at),
             "; the file is truncated, corrupt or not a safetensors file (re-export it)");
  } catch (const Json::exception& e) {
    AR1_FAIL(kTag, path, ": malformed header JSON: ", e.what(),
             "; the file is corrupt or not a safetensors file (re-export it)");
  }
}

// "a string", "an array", ... for messages.
std::string kind_of(const Json& v) {
  const std::string name = v.type_name();
  const bool vowel = name[0] == 'a' || name[0] == 'o';
  return (vowel ? "an " : "a ") + name;
}

std::string join_shape(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// Element i of `field` (an array of `what`): a non-negative integer up to INT64_MAX.
uint64_t integer_at(const Json& field, size_t i, const std::string& where, const char* name) {
  const Json& v = field[i];
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const std::string at = where + ": \"" + name + "\" element " + std::to_string(i);
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    AR1_CHECK(u <= kMax, kTag, at, " = ", u, ": integer too large (at most ", kMax,
              "); the header is corrupt (re-export it)");
    return u;
  }
  AR1_CHECK(!v.is_number_integer(), kTag, at, " = ", v.get<int64_t>(),
            ": negative number; shapes and offsets are non-negative integers (re-export it)");
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // nlohmann reads an integer beyond 64 bits as a double.
    AR1_CHECK(!(d >= 0 && std::floor(d) == d), kTag, at, " = ", v.dump(),
              ": integer too large (at most ", kMax, "); the header is corrupt (re-export it)");
    AR1_FAIL(kTag, at, " = ", v.dump(), ": expected an integer; shapes and offsets are "
             "non-negative integers (re-export it)");
  }
  AR1_FAIL(kTag, at, ": expected a non-negative integer, found ", kind_of(v),
           " (re-export it)");
}

SafetensorsEntry parse_entry(const std::string& path, const std::string& name, const Json& v) {
  const std::string where = path + ": tensor \"" + name + "\"";
  AR1_CHECK(v.is_object(), kTag, where,
            ": expected an object {\"dtype\", \"shape\", \"data_offsets\"}, found ", kind_of(v),
            "; the file is corrupt (re-export it)");
  for (const auto& item : v.items()) {
    const std::string& k = item.key();
    AR1_CHECK(k == "dtype" || k == "shape" || k == "data_offsets", kTag, where,
              ": unexpected key \"", k,
              "\"; a tensor entry has exactly dtype, shape and data_offsets (re-export it)");
  }
  const auto dtype = v.find("dtype");
  const auto shape = v.find("shape");
  const auto offsets = v.find("data_offsets");
  AR1_CHECK(dtype != v.end() && shape != v.end() && offsets != v.end(), kTag, where,
            ": missing ",
            dtype == v.end() ? "\"dtype\"" : shape == v.end() ? "\"shape\"" : "\"data_offsets\"",
            "; a tensor entry needs dtype, shape and data_offsets (re-export it)");
  AR1_CHECK(dtype->is_string(), kTag, where, ": \"dtype\" must be a string such as \"F32\", found ",
            kind_of(*dtype));
  AR1_CHECK(shape->is_array(), kTag, where, ": \"shape\" must be an array of integers, found ",
            kind_of(*shape));
  AR1_CHECK(offsets->is_array() && offsets->size() == 2, kTag, where,
            ": \"data_offsets\" must be an array [begin, end] of two integers, found ",
            offsets->dump());

  SafetensorsEntry e;
  e.name = name;
  const std::string& dtype_text = dtype->get_ref<const std::string&>();
  if (!parse_dtype(dtype_text, &e.dtype)) {
    const bool known = std::find(std::begin(kOtherFormatDTypes), std::end(kOtherFormatDTypes),
                                 dtype_text) != std::end(kOtherFormatDTypes);
    AR1_FAIL(kTag, where, ": dtype \"", dtype_text, "\" is ", known ? "not supported" : "unknown",
             "; expected one of F32, F16, BF16, I64, U8",
             known ? " (convert it before saving, e.g. tensor.float() in PyTorch)"
                   : " (the file is corrupt or from a newer format)");
  }

  // numel * itemsize, refusing anything that cannot fit in a file.
  std::vector<uint64_t> dims;
  for (size_t i = 0; i < shape->size(); ++i) dims.push_back(integer_at(*shape, i, where, "shape"));
  const uint64_t item = dtype_size(e.dtype);
  uint64_t bytes = item;
  constexpr uint64_t kCap = uint64_t{1} << 62;
  for (uint64_t d : dims) {
    AR1_CHECK(d == 0 || bytes <= kCap / d, kTag, where, ": shape ", join_shape(dims),
              " is too large for any file; the header is corrupt (re-export it)");
    bytes *= d;
    e.shape.push_back(static_cast<int64_t>(d));
  }
  e.begin = integer_at(*offsets, 0, where, "data_offsets");
  e.end = integer_at(*offsets, 1, where, "data_offsets");
  AR1_CHECK(e.begin <= e.end, kTag, where, ": data_offsets [", e.begin, ", ", e.end,
            "] end before they begin; the header is corrupt (re-export it)");
  AR1_CHECK(e.end - e.begin == bytes, kTag, where, ": data_offsets [", e.begin, ", ", e.end,
            "] span ", e.end - e.begin, " bytes but ", dtype_text, " shape ", join_shape(dims),
            " needs ", bytes, " (numel * itemsize); the header and data disagree (re-export it)");
  return e;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(std::string_view text, uint64_t data_size,
                                           const std::string& path) {
  const Json root = parse_json(text, path);
  AR1_CHECK(root.is_object(), kTag, path, ": the header must be a JSON object {\"<tensor>\": "
            "{\"dtype\", \"shape\", \"data_offsets\"}, ...}, found ", kind_of(root),
            "; the file is corrupt or not a safetensors file (re-export it)");
  SafetensorsHeader h;
  h.entries.reserve(root.size());
  for (const auto& item : root.items()) {
    const std::string& name = item.key();
    const Json& v = item.value();
    if (name != kSafetensorsMetadataKey) {
      h.entries.push_back(parse_entry(path, name, v));
      continue;
    }
    AR1_CHECK(v.is_object(), kTag, path, ": \"__metadata__\" must be an object of strings, found ",
              kind_of(v));
    for (const auto& kv : v.items()) {
      AR1_CHECK(kv.value().is_string(), kTag, path, ": __metadata__ value \"", kv.key(),
                "\" must be a string, found ", kind_of(kv.value()),
                "; store numbers as strings when saving");
      h.metadata[kv.key()] = kv.value().get<std::string>();
    }
  }

  // The tensors, sorted by offset, must tile [0, data_size) exactly: in range, no overlap, no
  // gap and no trailing bytes (the format forbids holes).
  auto& entries = h.entries;
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const SafetensorsEntry* prev = nullptr;
  for (const SafetensorsEntry& e : entries) {
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
  return h;
}

std::string safetensors_header_json(const NamedTensors& tensors,
                                    const SafetensorsMetadata& metadata,
                                    const std::string& path) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json& m = header[kSafetensorsMetadataKey] = Json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = Json{{"dtype", format_name(t.dtype())},
                        {"shape", t.shape()},
                        {"data_offsets", Json::array({offset, offset + bytes})}};
    offset += bytes;
  }
  try {
    return header.dump();  // compact; UTF-8 kept as is, control characters escaped
  } catch (const Json::exception& e) {
    AR1_FAIL(kTag, "saving ", path, ": a tensor name or metadata text is not valid UTF-8 (",
             e.what(), "); the header is JSON, which holds UTF-8 only: rename it");
  }
}

}  // namespace ar1
