#include "tools/commands/run_manifest.h"

#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/sha256.h"
#include "data/files_read.h"
#include "kernels/cpu_kernels.h"
#include "kernels/device.h"
#include "kernels/threading.h"
#include "tools/build_info.h"

#ifndef AR1_VERSION
#define AR1_VERSION "unknown"
#endif

namespace ar1::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? buf : "unknown";
}

// "model name" and "flags" of the first processor in /proc/cpuinfo (x86 Linux).
json cpu_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown";
  json features = json::array();
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && model == "unknown") model = value;
    if (key == "flags" && features.empty()) {
      std::istringstream words(value);
      for (std::string w; words >> w;) features.push_back(w);
    }
    if (model != "unknown" && !features.empty()) break;
  }
  return {{"model", model},
          {"logical_cores", std::thread::hardware_concurrency()},
          {"features", features}};
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

json machine_description() {
  json gpus = json::array();
  for (const std::string& name : kernels::cuda_device_names()) gpus.push_back(name);
  return {
      {"ar1_version", AR1_VERSION},
      {"commit", AR1_GIT_COMMIT},
      {"build", {{"options", AR1_BUILD_OPTIONS},
                 {"compiler", compiler()},
                 {"cuda_backend", kernels::built_with_cuda()},
                 {"onednn", kernels::built_with_onednn()}}},
      {"onednn_version", kernels::onednn_version()},
      {"cpu_kernels", kernels::cpu_kernels_name(kernels::cpu_kernels())},
      {"cpu_isa", kernels::cpu_isa_name()},
      {"cpu", cpu_description()},
      {"gpus", gpus},
      {"cuda", kernels::cuda_versions()},
      {"threads", kernels::num_threads()},
      {"host", host_name()},
  };
}

RunManifest::RunManifest(fs::path dir, const run::ResolvedOptions& options,
                         std::vector<std::string> args, bool resuming)
    : dir_(std::move(dir)) {
  const fs::path path = dir_ / "manifest.json";
  json earlier;
  if (resuming && fs::exists(path)) {
    try {
      std::ifstream in(path);
      earlier = json::parse(in);
      if (!earlier.is_object()) throw json::type_error::create(302, "not an object", nullptr);
      for (const json& f : earlier.value("dataset_files", json::array())) {
        files_[f.at("path").get<std::string>()] = f;
      }
    } catch (const json::exception& e) {
      AR1_FAIL("[ar1] ", path.string(), " is not a manifest ar1 wrote (", e.what(),
               "): remove it to start a new one");
    }
  }
  manifest_ = machine_description();
  manifest_["started"] = utc_now();
  manifest_["command"] = args;
  manifest_["seed"] = options.integer("seed");
  manifest_["config"] = json::parse(options.to_json());
  manifest_["resumed"] = json::array();
  if (earlier.is_object()) {
    manifest_["resumed"] = earlier.value("resumed", json::array());
    manifest_["started"] = earlier.value("started", manifest_["started"].get<std::string>());
    manifest_["resumed"].push_back({{"at", utc_now()},
                                    {"commit", AR1_GIT_COMMIT},
                                    {"host", manifest_["host"]},
                                    {"threads", kernels::num_threads()}});
  }
}

void RunManifest::write() {
  for (const std::string& p : data::files_read()) {
    if (files_.count(p) != 0) continue;
    std::error_code ec;
    const auto bytes = fs::file_size(p, ec);
    files_[p] = {{"path", p}, {"bytes", ec ? 0 : bytes}, {"sha256", sha256_file(p)}};
  }
  json list = json::array();
  for (const auto& [path, entry] : files_) list.push_back(entry);
  manifest_["dataset_files"] = list;
  manifest_["updated"] = utc_now();
  write_file_atomically(dir_ / "manifest.json", manifest_.dump(2) + "\n", "ar1");
}

}  // namespace ar1::cli
