#pragma once
// safetensors files: the format PyTorch, Hugging Face and our own checkpoints share.
//
// Layout of a file:
//   bytes [0, 8)        N, the header length, unsigned 64-bit little-endian
//   bytes [8, 8 + N)    a JSON object, padded with spaces so that 8 + N is a multiple of 8:
//                         {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]},
//                          ..., "__metadata__": {"key": "value", ...}}
//   bytes [8 + N, end)  the data buffer; tensor `name` is bytes [b, e) of it, row-major,
//                       little-endian. Every byte belongs to exactly one tensor.
//
// Supported dtypes: F32, F16, BF16, I64, U8 (our DType set). Loading validates the whole
// header before it allocates a tensor and then reads each tensor's bytes straight into that
// tensor's storage (no second pass, no file-sized buffer). Saving goes through AtomicFile
// (core/io/atomic_file.h): readers see the old file or the complete new one, never a partial
// one.
//
// Usage:
//   ar1::save_safetensors("ckpt.safetensors", {{"w", w}, {"b", b}}, {{"epoch", "3"}});
//   ar1::SafetensorsFile f = ar1::load_safetensors("ckpt.safetensors");
//   Tensor w = f.at("w");
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace ar1 {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using SafetensorsMetadata = std::map<std::string, std::string>;

// What a file holds: tensors in file (data offset) order, plus the string metadata.
class SafetensorsFile {
 public:
  const NamedTensors& tensors() const { return tensors_; }
  const SafetensorsMetadata& metadata() const { return metadata_; }
  size_t size() const { return tensors_.size(); }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // Throws naming the file and the missing tensor.
  const Tensor& at(const std::string& name) const;
  std::vector<std::string> names() const;

  // Used by the loader.
  void add(std::string name, Tensor t);
  SafetensorsMetadata& mutable_metadata() { return metadata_; }
  void set_source(std::string source) { source_ = std::move(source); }

 private:
  NamedTensors tensors_;
  std::unordered_map<std::string, size_t> index_;
  SafetensorsMetadata metadata_;
  std::string source_;  // the path, for error messages
};

// Writes `tensors` (CPU, any strides; names unique and non-empty, in this order)
// and `metadata` to `path` atomically. Throws ar1::Error and leaves nothing behind on failure.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata = {});

// Reads a whole file into CPU, contiguous tensors. Throws ar1::Error on a malformed file,
// saying what was expected, what was found and where.
SafetensorsFile load_safetensors(const std::filesystem::path& path);

// Limits the loader enforces.
inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

}  // namespace ar1
