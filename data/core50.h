#pragma once
// CORe50 (Lomonaco & Maltoni 2017) in its published layout, under one root:
//   core50_128x128/s{S}/o{O}/C_{SS}_{OO}_{FFF}.png          the 128x128 RGB frames
//   batches_filelists/{NI_inc,NC_inc,NIC_inc,NICv2_79,NICv2_196,NICv2_391}/run{R}/
//       train_batch_{BB}_filelist.txt, test_filelist.txt    "relative/path.png label" lines
// (the NICv2 lists are also found as NIC_v2_{79,196,391}/ at the root or under
// batches_filelists/, the folder names of the separate NICv2 archive).
// Labels in the lists are object ids 0..49; with object_level = false they become the 10
// categories (object / 5).
//
// The benchmark: train experience b = train_batch_{b} of the chosen run (all of them, read
// into one dataset), test stream = one experience with test_filelist.txt.
#include <cstdint>
#include <filesystem>
#include <string>

#include "data/scenario.h"

namespace ar1::data {

enum class Core50Scenario { ni, nc, nic, nicv2_79, nicv2_196, nicv2_391 };

struct Core50Options {
  Core50Scenario scenario = Core50Scenario::nicv2_391;
  int run = 0;
  bool object_level = true;  // 50 object classes; false: 10 categories
  bool check_paths = true;   // stat every listed image at load time
  // Training batches to read: -1 means the published count (core50_train_batches); a smaller
  // number reads only the first ones (miniature copies, quick runs).
  int64_t n_batches = -1;
};

// "ni", "nc", "nic", "nicv2_79", "nicv2_196", "nicv2_391" (also the folder names).
Core50Scenario parse_core50_scenario(const std::string& name);
// Number of training batches the published lists hold for a scenario.
int64_t core50_train_batches(Core50Scenario scenario);

Benchmark core50_benchmark(const std::filesystem::path& root, const Core50Options& options);

}  // namespace ar1::data
