#include "data/core50.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "data/file_list.h"

namespace ar1::data {

namespace {

struct ScenarioInfo {
  Core50Scenario scenario;
  const char* name;
  std::vector<const char*> folders;  // candidate list folders, relative to the root
  int64_t batches;
};

const std::vector<ScenarioInfo>& scenarios() {
  static const std::vector<ScenarioInfo> all = {
      {Core50Scenario::ni, "ni", {"batches_filelists/NI_inc"}, 8},
      {Core50Scenario::nc, "nc", {"batches_filelists/NC_inc"}, 9},
      {Core50Scenario::nic, "nic", {"batches_filelists/NIC_inc"}, 79},
      {Core50Scenario::nicv2_79, "nicv2_79",
       {"batches_filelists/NICv2_79", "batches_filelists/NIC_v2_79", "NIC_v2_79"}, 79},
      {Core50Scenario::nicv2_196, "nicv2_196",
       {"batches_filelists/NICv2_196", "batches_filelists/NIC_v2_196", "NIC_v2_196"}, 196},
      {Core50Scenario::nicv2_391, "nicv2_391",
       {"batches_filelists/NICv2_391", "batches_filelists/NIC_v2_391", "NIC_v2_391"}, 391},
  };
  return all;
}

const ScenarioInfo& info(Core50Scenario s) {
  for (const auto& i : scenarios())
    if (i.scenario == s) return i;
  AR1_FAIL("[core50] unknown scenario");
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

Core50Scenario parse_core50_scenario(const std::string& name) {
  std::string key = lower(name);
  // Accept the folder names too: NI_inc, NICv2_391, NIC_v2_391.
  if (key.size() > 4 && key.ends_with("_inc")) key.resize(key.size() - 4);
  if (auto pos = key.find("nic_v2"); pos != std::string::npos) key.replace(pos, 6, "nicv2");
  std::string names;
  for (const auto& i : scenarios()) {
    if (key == i.name) return i.scenario;
    names += std::string(names.empty() ? "" : ", ") + i.name;
  }
  AR1_FAIL("[core50] unknown scenario \"", name, "\", expected one of ", names);
}

int64_t core50_train_batches(Core50Scenario scenario) { return info(scenario).batches; }

Benchmark core50_benchmark(const std::filesystem::path& root, const Core50Options& o) {
  const ScenarioInfo& si = info(o.scenario);
  const std::filesystem::path images = root / "core50_128x128";
  AR1_CHECK(std::filesystem::is_directory(images), "[core50] ", root.string(),
            ": expected the image folder core50_128x128/, found none; extract "
            "core50_128x128.zip into the dataset root");
  std::filesystem::path lists;
  std::string tried;
  for (const char* folder : si.folders) {
    const auto candidate = root / folder / ("run" + std::to_string(o.run));
    tried += "\n  " + candidate.string();
    if (std::filesystem::is_directory(candidate)) {
      lists = candidate;
      break;
    }
  }
  AR1_CHECK(!lists.empty(), "[core50] no file lists for scenario ", si.name, " run ", o.run,
            "; looked in:", tried, "\nextract batches_filelists.zip (and the NICv2 lists) into ",
            root.string(), " or pick a run that exists");

  const int64_t num_classes = o.object_level ? 50 : 10;
  auto relabel = [&](std::vector<int64_t>& labels) {
    if (!o.object_level)
      for (auto& l : labels) l /= 5;
  };

  std::vector<std::filesystem::path> paths;
  std::vector<int64_t> labels;
  std::vector<int64_t> batch_start{0};
  const int64_t n_batches = o.n_batches < 0 ? si.batches : o.n_batches;
  AR1_CHECK(n_batches >= 1 && n_batches <= si.batches, "[core50] n_batches must be -1 or in [1, ",
            si.batches, "] for scenario ", si.name, ", got ", o.n_batches);
  for (int64_t b = 0; b < n_batches; ++b) {
    char name[64];
    std::snprintf(name, sizeof name, "train_batch_%02lld_filelist.txt", static_cast<long long>(b));
    const auto list = lists / name;
    AR1_CHECK(std::filesystem::is_regular_file(list), "[core50] ", list.string(),
              " is missing: expected ", n_batches, " training batches for scenario ", si.name,
              ", found ", b, "; re-extract the file lists or set n_batches");
    FileList fl = read_file_list(list, images, 50, o.check_paths);
    paths.insert(paths.end(), fl.paths.begin(), fl.paths.end());
    labels.insert(labels.end(), fl.labels.begin(), fl.labels.end());
    batch_start.push_back(static_cast<int64_t>(paths.size()));
  }
  relabel(labels);
  auto train = std::make_shared<const FileListDataset>(std::move(paths), std::move(labels),
                                                       num_classes, lists.string());

  FileList test_list = read_file_list(lists / "test_filelist.txt", images, 50, o.check_paths);
  relabel(test_list.labels);
  auto test = std::make_shared<const FileListDataset>(
      std::move(test_list.paths), std::move(test_list.labels), num_classes,
      (lists / "test_filelist.txt").string());

  Benchmark bench;
  bench.num_classes = num_classes;
  for (int64_t b = 0; b < n_batches; ++b) {
    std::vector<int64_t> idx(static_cast<size_t>(batch_start[b + 1] - batch_start[b]));
    std::iota(idx.begin(), idx.end(), batch_start[b]);
    bench.train_stream.push_back(make_experience(b, train, std::move(idx)));
  }
  std::vector<int64_t> all_test(static_cast<size_t>(test->size()));
  std::iota(all_test.begin(), all_test.end(), int64_t{0});
  bench.test_stream.push_back(make_experience(0, test, std::move(all_test)));
  return bench;
}

}  // namespace ar1::data
