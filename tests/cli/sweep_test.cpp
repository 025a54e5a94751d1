// `ar1 sweep` run here (the Slurm path against a real slurmctld is slurm_sweep_test.sh) and
// `ar1 compare`: the grid and its folder names, resuming a sweep, the job-array script, the
// table's mean and std checked against the runs' own results, and every error case.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/ar1_process.h"
#include "tests/support/fashion_mnist.h"

using namespace ar1::testing;
using nlohmann::json;

namespace {

// Two class-incremental experiences of 16 x 16 images: about a second a run.
std::string tiny_run() {
  return " --scenario nc --n-experiences 2 --train-per-class 20 --test-per-class 10"
         " --image-size 16 --first-epochs 1 --train-epochs 1 --rm-sz 20 --train-mb-size 16"
         " --workers 0 --threads 1 --data-root " + fashion_mnist_or_skip().string();
}

double final_accuracy(const fs::path& run_dir) {
  const json r = json::parse(read(run_dir / "results.json"));
  return r.at("runs").at(0).at("experiences").back().at(0).get<double>();
}

}  // namespace

TEST_CASE("cli sweep runs the grid, names each run after its values and skips finished runs") {
  skip_when_emulated("ar1 sweep runs each grid point as an ar1 of its own");
  const fs::path out = fresh_dir("sweep");
  const std::string cmd = "sweep --out " + out.string() + " --sweep seed=0..1 --sweep lr=0.01,0.003" + tiny_run();
  const Result first = run(cmd);
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK(contains(first.output, "4 runs"));
  const json plan = json::parse(read(out / "sweep.json"));
  REQUIRE(plan.at("runs").size() == 4);
  // The last axis varies fastest.
  const std::vector<std::string> names = {"seed=0_lr=0.01", "seed=0_lr=0.003", "seed=1_lr=0.01",
                                          "seed=1_lr=0.003"};
  for (size_t i = 0; i < names.size(); ++i) {
    CHECK(plan["runs"][i]["dir"] == names[i]);
    const fs::path dir = out / names[i];
    CHECK(json::parse(read(dir / "results.json")).at("finished") == true);
    CHECK(fs::exists(dir / "manifest.json"));
    CHECK(fs::exists(out / "logs" / (names[i] + ".log")));
  }
  const json config = json::parse(read(out / "seed=1_lr=0.003" / "config.json"));
  CHECK(config.at("seed") == 1);
  CHECK(config.at("lr") == doctest::Approx(0.003));

  // Again: nothing runs. With one run's results removed: only that one runs again.
  const Result second = run(cmd);
  INFO(second.output);
  CHECK(second.status == 0);
  CHECK(contains(second.output, "finished earlier, skipped"));
  CHECK_FALSE(contains(second.output, ": running"));
  const double before = final_accuracy(out / "seed=1_lr=0.01");
  fs::remove_all(out / "seed=1_lr=0.01");
  const Result third = run(cmd);
  INFO(third.output);
  CHECK(third.status == 0);
  CHECK(contains(third.output, "seed=1_lr=0.01: running"));
  CHECK(final_accuracy(out / "seed=1_lr=0.01") == before);  // same seed, same bits

  // The same folder with another grid is refused.
  const Result other = run("sweep --out " + out.string() + " --sweep seed=0..2" + tiny_run());
  CHECK(other.status == 2);
  CHECK(contains(other.output, "holds another sweep"));
  fs::remove_all(out);
}

TEST_CASE("cli sweep continues an interrupted run with --resume") {
  skip_when_emulated("ar1 sweep runs each grid point as an ar1 of its own");
  const fs::path out = fresh_dir("sweep_resume");
  const std::string cmd = "sweep --out " + out.string() + " --sweep seed=3" + tiny_run();
  REQUIRE(run(cmd).status == 0);
  const double whole = final_accuracy(out / "seed=3");
  // Stop the run after its first experience, as a killed or preempted task would leave it.
  fs::remove_all(out / "seed=3");
  REQUIRE(run("train --out " + (out / "seed=3").string() + " --seed=3 --stop-after 1" + tiny_run())
              .status == 0);
  const Result resumed = run(cmd);
  INFO(resumed.output);
  CHECK(resumed.status == 0);
  CHECK(contains(resumed.output, "seed=3: resuming"));
  CHECK(final_accuracy(out / "seed=3") == whole);
  fs::remove_all(out);
}

TEST_CASE("cli sweep --slurm writes a job array with one task per run and --task runs one") {
  skip_when_emulated("ar1 sweep runs each grid point as an ar1 of its own");
  const fs::path out = fresh_dir("sweep_slurm");
  const Result r = run("sweep --out " + out.string() + " --sweep seed=0..2 --sweep alpha=0.25,0.5"
                       " --slurm --slurm-partition gpu-short --slurm-time 02:30:00 --slurm-mem 6G"
                       " --slurm-cpus 4 --slurm-max-parallel 2" + tiny_run());
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::string script = read(out / "sweep.sbatch");
  for (const char* line : {"#SBATCH --array=0-5%2\n", "#SBATCH --partition=gpu-short\n",
                           "#SBATCH --time=02:30:00\n", "#SBATCH --mem=6G\n",
                           "#SBATCH --cpus-per-task=4\n", "--task \"$SLURM_ARRAY_TASK_ID\"",
                           "\ncd '"}) {
    CHECK_MESSAGE(contains(script, line), line);
  }
  CHECK_FALSE(fs::exists(out / "seed=0_alpha=0.25"));  // written, not run

  const Result task = run("sweep --out " + out.string() + " --task 5");
  INFO(task.output);
  CHECK(task.status == 0);
  CHECK(json::parse(read(out / "seed=2_alpha=0.5" / "config.json")).at("alpha") == 0.5);
  const Result past = run("sweep --out " + out.string() + " --task 6");
  CHECK(past.status == 2);
  CHECK(contains(past.output, "--task 6 is past the last run"));
  fs::remove_all(out);
}

TEST_CASE("cli sweep refuses a bad grid with one line naming the fix") {
  const fs::path out = fresh_dir("sweep_errors");
  const std::string at = " --out " + out.string();
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"sweep" + at + " --task 0", "holds no sweep"},
      {"sweep" + at, "no --sweep axis given"},
      {"sweep --sweep seed=0..2", "needs --out DIR"},
      {"sweep" + at + " --sweep lrr=0.1,0.2", "did you mean lr?"},
      {"sweep" + at + " --sweep seed=3..1", "the range end of seed is '1'"},
      {"sweep" + at + " --sweep seed", "is not NAME=VALUES"},
      {"sweep" + at + " --sweep lr=0.1,0.1", "lists 0.1 twice"},
      {"sweep" + at + " --sweep lr=0.1 --sweep lr=0.2", "is given twice"},
      {"sweep" + at + " --sweep lr=fast", "run lr=fast"},
      {"sweep" + at + " --sweep out=a,b", "cannot be swept"},
      {"sweep" + at + " --sweep seed=0 --stop-after 1", "set by the sweep"},
      {"sweep" + at + " --sweep seed=0 --submit", "--submit goes with --slurm"},
      {"sweep" + at + " --sweep seed=0 --slurm --slurm-time '1:00;rm'", "--slurm-time"},
  };
  for (const Case& c : cases) {
    const Result r = run(c.args);
    INFO(c.args, "\n", r.output);
    CHECK(r.status == 2);
    CHECK(contains(r.output, c.message));
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(out));  // nothing written
  }
}

TEST_CASE("cli compare groups runs that differ only in seed and gives mean and std") {
  skip_when_emulated("ar1 sweep runs each grid point as an ar1 of its own");
  const fs::path out = fresh_dir("compare");
  const Result sweep = run("sweep --out " + out.string() + " --sweep lr=0.01,0.003 --sweep seed=0..2" + tiny_run());
  INFO(sweep.output);
  REQUIRE(sweep.status == 0);
  const fs::path html = out / "compare.html";
  const Result r = run("compare " + out.string() + " --html " + html.string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  // The expected figures from the runs' own results.json.
  for (const std::string lr : {"0.01", "0.003"}) {
    std::vector<double> acc;
    for (int seed = 0; seed < 3; ++seed) {
      acc.push_back(final_accuracy(out / ("lr=" + lr + "_seed=" + std::to_string(seed))));
    }
    const double mean = (acc[0] + acc[1] + acc[2]) / 3;
    double var = 0;
    for (double a : acc) var += (a - mean) * (a - mean);
    char cell[64];
    std::snprintf(cell, sizeof cell, "%.4f +- %.4f", mean, std::sqrt(var / 2));
    const std::string group = "lr=" + std::string(lr == "0.01" ? "0.01" : "0.003");
    CHECK_MESSAGE(contains(r.output, cell), group, " ", cell);
    CHECK(contains(r.output, group));
  }
  const std::string page = read(html);
  CHECK(contains(page, "<svg"));
  CHECK(contains(page, "lr=0.003 / lr=0.003_seed=2"));  // every run has its curve
  CHECK_FALSE(contains(page, "http://"));
  CHECK_FALSE(contains(page, "<script"));

  // Run directories given one by one, one of them unfinished: it is named in a note.
  const fs::path part = out / "partial";
  REQUIRE(run("train --out " + part.string() + " --stop-after 1" + tiny_run()).status == 0);
  const Result mixed = run("compare " + (out / "lr=0.01_seed=0").string() + " " + part.string() +
                           " --html " + html.string());
  INFO(mixed.output);
  CHECK(mixed.status == 0);
  CHECK(contains(mixed.output, "unfinished (1 experiences so far)"));

  for (const std::string& bad : std::vector<std::string>{"compare", "compare /nonexistent", "compare " + out.string() + " --csv"}) {
    const Result e = run(bad);
    INFO(bad, "\n", e.output);
    CHECK(e.status == 2);
  }
  fs::remove_all(out);
}
