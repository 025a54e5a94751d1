// manifest.json of a run directory: the build, the machine, the config, and the SHA-256 of
// every dataset file the run read, checked against the files themselves.
#include <doctest/doctest.h>

#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/sha256.h"
#include "kernels/device.h"
#include "tests/cli/ar1_process.h"
#include "tests/support/fashion_mnist.h"

using namespace ar1::testing;
using nlohmann::json;

TEST_CASE("cli manifest names the build, the machine, the config and every dataset file read") {
  const fs::path data = fashion_mnist_or_skip();
  const fs::path out = fresh_dir("manifest");
  const std::string small =
      " --scenario nc --n-experiences 2 --train-per-class 20 --test-per-class 10 --image-size 16"
      " --first-epochs 1 --train-epochs 1 --rm-sz 20 --train-mb-size 16 --workers 0 --threads 1"
      " --seed 7 --data-root " + data.string();
  const Result r = run("train --out " + out.string() + small + " --stop-after 1");
  INFO(r.output);
  REQUIRE(r.status == 0);
  json m = json::parse(read(out / "manifest.json"));
  CHECK(m.at("ar1_version") == "0.1.0");
  CHECK(std::regex_match(m.at("commit").get<std::string>(),
                         std::regex("([0-9a-f]{40}|unknown)(\\+local-changes)?")));
  // "g++ 12.2.0" here, "clang 14.0.6" in the sanitizer builds.
  CHECK(std::regex_search(m.at("build").at("compiler").get<std::string>(),
                          std::regex("^(g\\+\\+|clang) [0-9]+\\.")));
  CHECK(contains(m.at("build").at("options").get<std::string>(), "CMAKE_BUILD_TYPE="));
  CHECK(m.at("build").at("onednn") == ar1::kernels::built_with_onednn());
  CHECK(m.at("onednn_version") == ar1::kernels::onednn_version());
  CHECK(m.at("cpu_isa") == ar1::kernels::cpu_isa_name());
  CHECK_FALSE(m.at("cpu").at("model").get<std::string>().empty());
  CHECK(m.at("cpu").at("features").size() > 10);
  CHECK(m.at("threads") == 1);
  CHECK(m.at("gpus").size() == static_cast<size_t>(ar1::kernels::cuda_device_count()));
  CHECK(m.at("seed") == 7);
  CHECK(m.at("config").at("seed") == 7);
  CHECK(m.at("config").at("image_size") == 16);
  CHECK(m.at("resumed").empty());

  // The four IDX files, each with its size and digest.
  const json& files = m.at("dataset_files");
  REQUIRE(files.size() == 4);
  for (const json& f : files) {
    const fs::path p = f.at("path").get<std::string>();
    INFO(p.string());
    CHECK(p.is_absolute());
    CHECK(f.at("bytes") == fs::file_size(p));
    CHECK(f.at("sha256") == ar1::sha256_file(p));
  }

  // Resumed on another thread count: the files stay, the resume is recorded.
  const Result again = run("train --resume " + out.string() + " --threads 2");
  INFO(again.output);
  REQUIRE(again.status == 0);
  m = json::parse(read(out / "manifest.json"));
  CHECK(m.at("dataset_files").size() == 4);
  REQUIRE(m.at("resumed").size() == 1);
  CHECK(m.at("resumed")[0].at("threads") == 2);
  fs::remove_all(out);
}

TEST_CASE("cli info --json prints the manifest's machine part") {
  const Result r = run("info --json");
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json m = json::parse(r.output);
  CHECK(m.at("cpu_isa") == ar1::kernels::cpu_isa_name());
  CHECK(m.contains("commit"));
  CHECK(m.contains("gpus"));
}
