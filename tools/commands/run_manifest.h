#pragma once
// manifest.json of a run directory: what it takes to reproduce the run or tell two runs apart.
// The ar1 version and commit, the build options and compiler, oneDNN's version and the ISA it
// chose, the CPU model and features, the GPUs, the thread count, the full config and seed, the
// command line, and the SHA-256 of every dataset file the run read (data/files_read.h).
//
// It is rewritten after every experience, since some readers open their files only when an
// image is first needed (CORe50); each file is hashed once per process. A resumed run keeps
// the files of the manifest it finds and adds a line to "resumed".
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run/options.h"

namespace ar1::cli {

class RunManifest {
 public:
  RunManifest(std::filesystem::path dir, const run::ResolvedOptions& options,
              std::vector<std::string> args, bool resuming);
  // Hashes the dataset files read since the last call and writes manifest.json atomically.
  void write();
  const nlohmann::json& contents() const { return manifest_; }

 private:
  std::filesystem::path dir_;
  nlohmann::json manifest_;
  std::map<std::string, nlohmann::json> files_;  // path -> {bytes, sha256}
};

// The machine part alone (CPU, GPU, threads, build): also printed by `ar1 info --json`.
nlohmann::json machine_description();

}  // namespace ar1::cli
