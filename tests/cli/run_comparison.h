#pragma once
// Comparing two run directories: the metrics that do not depend on timing, and the tensors of
// their checkpoints bit for bit. Shared by the CLI tests and the SIGKILL trials.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/io/safetensors.h"

namespace ar1::testing {

// Metric lines of metrics.jsonl that must not depend on timing.
inline std::string deterministic_metrics(const std::filesystem::path& jsonl) {
  std::ifstream in(jsonl);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find("\"Time_") != std::string::npos) continue;
    if (line.find("MaxRAMUsage") != std::string::npos) continue;
    out += line + "\n";
  }
  return out;
}

// What differs between the checkpoints of two run directories (weights, BatchReNorm statistics,
// optimiser, CWR*, SI, replay memory, RNG state, metric history): the names of the tensors that
// are not bit-identical, or one line when the sets of names differ. Empty: the same.
inline std::vector<std::string> checkpoint_differences(const std::filesystem::path& run_a,
                                                       const std::filesystem::path& run_b) {
  const SafetensorsFile a = load_safetensors(run_a / "checkpoint.safetensors");
  const SafetensorsFile b = load_safetensors(run_b / "checkpoint.safetensors");
  if (a.names() != b.names()) return {"the checkpoints hold different tensors"};
  std::vector<std::string> differ;
  for (const auto& [name, t] : a.tensors()) {
    const Tensor& u = b.at(name);
    const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
    if (u.shape() != t.shape() || std::memcmp(t.raw_data(), u.raw_data(), bytes) != 0) {
      differ.push_back(name);
    }
  }
  return differ;
}

}  // namespace ar1::testing
