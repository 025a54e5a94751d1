#pragma once
// AR1 checkpoints: everything needed to continue a run after an experience, in one
// safetensors file: model weights and BatchReNorm statistics and settings, optimiser
// momentum, CWR* consolidated weights and counts, SI data, the replay memory, the strategy's
// RNG state and clock, plus string metadata from the caller (config, scenario position,
// metric history). A checksum over every tensor byte is stored, so a truncated or corrupted
// file is refused with a clear message. Writing goes through a temporary file and a rename.
#include <filesystem>
#include <map>
#include <string>

#include "strategy/ar1.h"

namespace ar1::strategy {

using CheckpointMetadata = std::map<std::string, std::string>;

void save_checkpoint(const std::filesystem::path& path, AR1& strategy,
                     const CheckpointMetadata& metadata);
// Restores `strategy` (built with the same options and model) and returns the metadata.
CheckpointMetadata load_checkpoint(const std::filesystem::path& path, AR1& strategy);
// Only the metadata (and a full integrity check), e.g. to rebuild the model first.
CheckpointMetadata read_checkpoint_metadata(const std::filesystem::path& path);

}  // namespace ar1::strategy
