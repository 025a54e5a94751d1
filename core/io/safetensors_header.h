#pragma once
// The JSON header of a safetensors file (layout in core/io/safetensors.h), read and written
// with nlohmann-json. Used by safetensors.cpp only.
//
// Reading checks everything the loader relies on before it allocates a tensor: the JSON
// (duplicate keys and nesting deeper than the format are refused while parsing), every entry
// (dtype one of ours, shape of non-negative integers, data_offsets [begin, end] spanning
// numel * itemsize bytes) and the data buffer (the tensors tile it exactly: in range, no
// overlap, no gap, no trailing bytes). Every error is an ar1::Error naming the file and the
// fault; no nlohmann exception escapes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/safetensors.h"

namespace ar1 {

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  uint64_t begin = 0, end = 0;  // bytes [begin, end) of the data buffer
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // sorted by offset
  SafetensorsMetadata metadata;
};

// `text`: the header's bytes; `data_size`: the bytes after it; `path`: for messages.
SafetensorsHeader parse_safetensors_header(std::string_view text, uint64_t data_size,
                                           const std::string& path);

// The compact JSON for `tensors` laid out back to back in this order, metadata first (no
// padding). Throws if a name or metadata text is not UTF-8.
std::string safetensors_header_json(const NamedTensors& tensors,
                                    const SafetensorsMetadata& metadata,
                                    const std::string& path);

inline constexpr const char* kSafetensorsMetadataKey = "__metadata__";

}  // namespace ar1
