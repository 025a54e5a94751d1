// The golden run: a short AR1 run on the portable CPU kernels gives, on any machine, instruction
// set (AR1_CPU_ISA) and thread count, the SHA-256 of every checkpoint tensor and of the metrics
// committed in tests/golden/portable_run.json. CI runs on whatever machine it is given, so the
// golden is checked across machines over time (docs/reproducibility.md).
//
// A change of these bits is a change of results: where it is meant, copy the file the failing
// test writes (its path is in the message) over tests/golden/portable_run.json, and say why in
// the commit.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/io/sha256.h"
#include "tests/cli/ar1_process.h"
#include "tests/cli/run_comparison.h"
#include "tests/support/fashion_mnist.h"
#include "tests/support/skip_test.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace ar1::testing;  // run, read, fresh_dir (ar1_process.h)

namespace {

const fs::path kGolden = fs::path(AR1_TEST_GOLDEN_DIR) / "portable_run.json";

std::string sha256_of(const std::string& bytes) {
  ar1::Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

// The hashes of a finished run directory, in the golden's form.
json hashes_of(const fs::path& dir) {
  json tensors = json::object();
  const ar1::SafetensorsFile f = ar1::load_safetensors(dir / "checkpoint.safetensors");
  for (const auto& [name, t] : f.tensors()) {
    const size_t bytes = static_cast<size_t>(t.numel()) * ar1::dtype_size(t.dtype());
    tensors[name] = sha256_of(std::string(static_cast<const char*>(t.raw_data()), bytes));
  }
  return {{"metrics_sha256", sha256_of(deterministic_metrics(dir / "metrics.jsonl"))},
          {"tensors", tensors}};
}

// The dataset files the run read, by file name, from its manifest.
std::map<std::string, std::string> dataset_hashes(const json& manifest) {
  std::map<std::string, std::string> out;
  for (const json& f : manifest.at("dataset_files")) {
    out[fs::path(f.at("path").get<std::string>()).filename().string()] = f.at("sha256");
  }
  return out;
}

// Runs the golden's command on `threads` threads and compares; on a difference, writes the
// run's hashes beside the build for review.
void check_golden_on(const json& golden, int threads) {
  const std::string data = fashion_mnist_or_skip().string();
  const fs::path out = fresh_dir("golden" + std::to_string(threads));
  const Result r = run("train --threads " + std::to_string(threads) + " --out " + out.string() +
                       " --data-root " + data + " " + golden.at("args").get<std::string>());
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto want_data = golden.at("dataset_sha256").get<std::map<std::string, std::string>>();
  const json manifest = json::parse(read(out / "manifest.json"));
  if (dataset_hashes(manifest) != want_data) {
    fs::remove_all(out);
    skip_test("the Fashion-MNIST files in " + data + " are not those the golden was made "
              "from (tests/golden/portable_run.json, dataset_sha256)");
  }
  CHECK(manifest.at("cpu_kernels") == "portable");
  CHECK(manifest.at("config").at("cpu_kernels") == "portable");
  json got = golden;
  got.update(hashes_of(out));
  int differing = 0;
  for (const auto& [name, sha] : golden.at("tensors").items()) {
    if (!got.at("tensors").contains(name) || got.at("tensors").at(name) != sha) {
      ++differing;
      MESSAGE("differs from the golden: " << name);
    }
  }
  CHECK(differing == 0);
  CHECK(got.at("tensors").size() == golden.at("tensors").size());
  CHECK(got.at("metrics_sha256") == golden.at("metrics_sha256"));
  if (got != golden) {
    const fs::path actual = fs::current_path() / "portable_run.actual.json";
    std::ofstream(actual) << got.dump(2) << "\n";
    MESSAGE(differing << " of " << golden.at("tensors").size()
                      << " tensors differ; this run's hashes are in " << actual.string());
  }
  fs::remove_all(out);
}

}  // namespace

TEST_CASE("cli golden portable run gives the committed checkpoint and metrics hashes") {
  const json golden = json::parse(read(kGolden));
  MESSAGE("golden: " << golden.at("tensors").size() << " tensors, " << golden.at("args"));
  for (int threads : {1, 3}) {
    CAPTURE(threads);
    check_golden_on(golden, threads);
  }
}
