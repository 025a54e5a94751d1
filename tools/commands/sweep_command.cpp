// `ar1 sweep`: a grid of `ar1 train` runs in one folder.
//
//   ar1 sweep --out sweeps/lr --sweep seed=0..4 --sweep lr=0.01,0.003 [train options]
//       runs the 10 runs one after another: sweeps/lr/<name>/ each, logs in sweeps/lr/logs/.
//       Run it again to continue: finished runs are skipped, interrupted ones resumed.
//   ar1 sweep ... --slurm [--slurm-partition P --slurm-time 02:00:00 --slurm-mem 8G
//       --slurm-cpus 4 --slurm-max-parallel 8] [--submit]
//       writes sweeps/lr/sweep.sbatch, a job array with one task per run (and submits it).
//   ar1 sweep --out sweeps/lr --task N [--threads T]
//       runs run N of the sweep written there: what each array task executes.
//
// The sweep is fixed by sweep.json in its folder (the base options and the runs); asking the
// same folder for another grid is refused. Each run is `ar1 train` in a child process, so a run
// that fails leaves the others going and its own log to read.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "run/train_options.h"
#include "tools/commands/commands.h"
#include "tools/commands/run_record.h"

namespace ar1::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kMaxRuns = 10000;

const char* kHelp =
    "Usage: ar1 sweep --out DIR --sweep NAME=VALUES [--sweep ...] [train options]\n"
    "       ar1 sweep --out DIR --task N [--threads T]\n"
    "Run a grid of `ar1 train` runs, one after another or as a Slurm job array.\n\n"
    "  --out DIR                 the sweep's folder (required): DIR/<run>/ per run, DIR/logs/\n"
    "  --sweep NAME=VALUES       an axis of the grid: any `ar1 train` option, VALUES a list\n"
    "                            (lr=0.01,0.003) or an integer range (seed=0..4, inclusive);\n"
    "                            repeat for more axes (the grid is their product)\n"
    "  --task N                  run only run N of the sweep in DIR (a Slurm array task)\n"
    "  --threads T               CPU threads of each run (0: all cores)\n"
    "  --slurm                   write DIR/sweep.sbatch (one array task per run), do not run\n"
    "  --submit                  with --slurm: also submit it with sbatch\n"
    "  --slurm-partition P       #SBATCH --partition (default: the cluster's)\n"
    "  --slurm-time T            #SBATCH --time per task (default 01:00:00)\n"
    "  --slurm-mem M             #SBATCH --mem per task (default 8G)\n"
    "  --slurm-cpus C            #SBATCH --cpus-per-task, also the runs' --threads (default 2)\n"
    "  --slurm-max-parallel K    at most K tasks at once (default: no limit)\n"
    "Every other option goes to each run's `ar1 train` (see `ar1 train --help`); --out,\n"
    "--resume and --stop-after are the sweep's to set.\n";

struct Axis {
  std::string name;  // dash spelling
  std::vector<std::string> values;
};

struct SweepArgs {
  std::string out;
  std::vector<std::string> sweeps;  // "name=values" as given
  std::vector<std::string> base;    // everything else: train options
  std::optional<long long> task;
  std::optional<std::string> threads;
  bool slurm = false, submit = false, help = false;
  std::string partition, time = "01:00:00", mem = "8G", cpus = "2", max_parallel;
};

long long parse_count(const std::string& text, const std::string& what, long long min) {
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size() && v >= min) return v;
  } catch (const std::exception&) {
  }
  AR1_FAIL("[ar1] sweep: ", what, " is '", text, "': expected an integer >= ", min);
}

// Takes the sweep's own options out of `args`; the rest are train options, checked later.
SweepArgs split_args(const std::vector<std::string>& args) {
  SweepArgs s;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], value;
    bool has_value = false;
    if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1), a = a.substr(0, eq), has_value = true;
    }
    std::replace(a.begin(), a.end(), '_', '-');
    auto take = [&]() -> std::string {
      if (has_value) return value;
      AR1_CHECK(i + 1 < args.size(), "[ar1] sweep: ", a, " needs a value (see ar1 sweep --help)");
      return args[++i];
    };
    if (a == "--help" || a == "-h") s.help = true;
    else if (a == "--out") s.out = take();
    else if (a == "--sweep") s.sweeps.push_back(take());
    else if (a == "--task") s.task = parse_count(take(), "--task", 0);
    else if (a == "--threads") s.threads = std::to_string(parse_count(take(), "--threads", 0));
    else if (a == "--slurm") s.slurm = true;
    else if (a == "--submit") s.submit = true;
    else if (a == "--slurm-partition") s.partition = take();
    else if (a == "--slurm-time") s.time = take();
    else if (a == "--slurm-mem") s.mem = take();
    else if (a == "--slurm-cpus") s.cpus = std::to_string(parse_count(take(), "--slurm-cpus", 1));
    else if (a == "--slurm-max-parallel")
      s.max_parallel = std::to_string(parse_count(take(), "--slurm-max-parallel", 1));
    else if (a == "--resume" || a == "--stop-after")
      AR1_FAIL("[ar1] sweep: ", a, " is set by the sweep for each run; drop it");
    else s.base.push_back(args[i]);
  }
  return s;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, sep);) out.push_back(part);
  if (!text.empty() && text.back() == sep) out.emplace_back();
  return out;
}

Axis parse_axis(const run::OptionTable& table, const std::string& text) {
  const auto eq = text.find('=');
  AR1_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < text.size(), "[ar1] sweep: --sweep ",
            text, " is not NAME=VALUES: write e.g. --sweep seed=0..4 or --sweep lr=0.01,0.003");
  Axis axis;
  const std::string name = text.substr(0, eq), values = text.substr(eq + 1);
  const run::OptionSpec* spec = table.find(name);
  if (spec == nullptr) {
    const std::vector<std::string> near = run::suggest(table, name);
    AR1_FAIL("[ar1] sweep: --sweep ", name, " is not an `ar1 train` option",
             near.empty() ? std::string("; see ar1 train --help") : "; did you mean " + near[0] + "?");
  }
  axis.name = spec->name;
  AR1_CHECK(axis.name != "out" && axis.name != "resume" && axis.name != "stop-after",
            "[ar1] sweep: --", axis.name, " cannot be swept: the sweep sets it for each run");
  if (const auto dots = values.find(".."); dots != std::string::npos) {
    const long long lo = parse_count(values.substr(0, dots), "the range start of " + name, LLONG_MIN);
    const long long hi = parse_count(values.substr(dots + 2), "the range end of " + name, lo);
    AR1_CHECK(hi - lo < static_cast<long long>(kMaxRuns), "[ar1] sweep: ", text,
              " has more than ", kMaxRuns, " values");
    for (long long v = lo; v <= hi; ++v) axis.values.push_back(std::to_string(v));
  } else {
    axis.values = split(values, ',');
  }
  for (size_t i = 0; i < axis.values.size(); ++i) {
    AR1_CHECK(!axis.values[i].empty(), "[ar1] sweep: --sweep ", text, " has an empty value");
    for (size_t j = 0; j < i; ++j) {
      AR1_CHECK(axis.values[i] != axis.values[j], "[ar1] sweep: --sweep ", text, " lists ",
                axis.values[i], " twice");
    }
  }
  return axis;
}

// A run folder's name from its axis values: "lr=0.01_seed=3" (characters a path or a shell
// would trip on become '-').
std::string run_name(const std::vector<Axis>& axes, const std::vector<size_t>& pick) {
  std::string name;
  for (size_t a = 0; a < axes.size(); ++a) {
    if (a > 0) name += "_";
    name += axes[a].name + "=" + axes[a].values[pick[a]];
  }
  for (char& c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '=' || c == '.' || c == '_' ||
          c == '-' || c == '+' || c == ',')) {
      c = '-';
    }
  }
  return name.empty() ? "run" : name;
}

// sweep.json: the base options, the axes and every run (its folder and its train arguments).
json plan(const SweepArgs& s) {
  const run::OptionTable table = run::train_options();
  AR1_CHECK(!s.sweeps.empty(), "[ar1] sweep: no --sweep axis given: add e.g. --sweep seed=0..4");
  std::vector<Axis> axes;
  for (const std::string& text : s.sweeps) {
    axes.push_back(parse_axis(table, text));
    for (size_t a = 0; a + 1 < axes.size(); ++a) {
      AR1_CHECK(axes[a].name != axes.back().name, "[ar1] sweep: --sweep ", axes.back().name,
                " is given twice: list all its values in one --sweep");
    }
  }
  size_t total = 1;
  for (const Axis& a : axes) {
    total *= a.values.size();
    AR1_CHECK(total <= kMaxRuns, "[ar1] sweep: the grid has more than ", kMaxRuns, " runs");
  }
  // The base options alone must parse (the error then names them, not a run).
  (void)run::parse_args(table, s.base);
  json runs = json::array();
  std::map<std::string, int> names;
  std::vector<size_t> pick(axes.size(), 0);
  for (size_t i = 0; i < total; ++i) {
    std::vector<std::string> args = s.base;
    for (size_t a = 0; a < axes.size(); ++a) {
      args.push_back("--" + axes[a].name + "=" + axes[a].values[pick[a]]);
    }
    try {
      (void)run::parse_args(table, args);
    } catch (const Error& e) {
      AR1_FAIL("[ar1] sweep: run ", run_name(axes, pick), ": ", e.what());
    }
    std::string name = run_name(axes, pick);
    if (names[name]++ > 0) name.append("_").append(std::to_string(i));
    runs.push_back({{"index", i}, {"dir", name}, {"args", args}});
    // The last axis varies fastest.
    for (size_t a = axes.size(); a-- > 0;) {
      if (++pick[a] < axes[a].values.size()) break;
      pick[a] = 0;
    }
  }
  json jaxes = json::array();
  for (const Axis& a : axes) jaxes.push_back({{"name", a.name}, {"values", a.values}});
  return {{"base", s.base}, {"axes", jaxes}, {"runs", runs}};
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json read_plan(const fs::path& dir) {
  const fs::path path = dir / "sweep.json";
  AR1_CHECK(fs::exists(path), "[ar1] sweep: ", dir.string(), " holds no sweep (no sweep.json): "
            "write one with ar1 sweep --out ", dir.string(), " --sweep ...");
  try {
    json j = json::parse(read_text(path));
    (void)j.at("runs").at(0).at("args");
    return j;
  } catch (const json::exception& e) {
    AR1_FAIL("[ar1] sweep: ", path.string(), " is not a sweep.json ar1 wrote (", e.what(), ")");
  }
}

// Writes the plan, or checks that the folder already holds the same one.
json fix_plan(const SweepArgs& s) {
  const fs::path dir = s.out;
  const json wanted = plan(s);
  if (fs::exists(dir / "sweep.json")) {
    const json held = read_plan(dir);
    AR1_CHECK(held == wanted, "[ar1] sweep: ", dir.string(), " holds another sweep (its "
              "sweep.json has other options or axes): pick another --out, or repeat that "
              "sweep's command to continue it");
    return held;
  }
  fs::create_directories(dir / "logs");
  write_file_atomically(dir / "sweep.json", wanted.dump(1) + "\n", "ar1");
  return wanted;
}

fs::path self_executable() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  AR1_CHECK(!ec, "[ar1] sweep: cannot find the ar1 binary (/proc/self/exe): ", ec.message());
  return p;
}

bool finished(const fs::path& run_dir) {
  const fs::path results = run_dir / "results.json";
  if (!fs::exists(results)) return false;
  return results_from_json(read_text(results), results.string()).finished;
}

volatile pid_t child_pid = 0;

// `ar1 <args>` as a child process, its output appended to `log`; returns its exit status
// (128 + signal when killed).
int run_child(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv_text = {self_executable().string()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  AR1_CHECK(fd >= 0, "[ar1] sweep: cannot write the log ", log.string(), ": ", std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGINT, SIG_DFL);  // ignored dispositions would survive exec
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "error: [ar1] sweep: cannot start %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fd);
  AR1_CHECK(pid > 0, "[ar1] sweep: cannot start a run: ", std::strerror(errno));
  // While the run goes on, a Ctrl-C (sent to the whole process group) is the run's to handle:
  // it ends cleanly and the sweep reports it. A SIGTERM sent to the sweep alone (scancel, a
  // batch system) is passed on.
  child_pid = pid;
  struct sigaction ignore {}, forward {}, old_int {}, old_term {};
  ignore.sa_handler = SIG_IGN;
  forward.sa_handler = [](int sig) { ::kill(child_pid, sig); };
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGTERM, &forward, &old_term);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One run of the plan: skipped when finished, resumed when it has a checkpoint, else started.
// Returns the exit status of its `ar1 train` (0 when skipped).
int run_one(const fs::path& dir, const json& run, const std::optional<std::string>& threads) {
  const std::string name = run.at("dir").get<std::string>();
  const fs::path run_dir = dir / name;
  if (finished(run_dir)) {
    std::printf("[%3lld] %s: finished earlier, skipped\n", run.at("index").get<long long>(), name.c_str());
    return 0;
  }
  std::vector<std::string> args;
  const bool resume = fs::exists(run_dir / "checkpoint.safetensors");
  if (resume) {
    args = {"train", "--resume", run_dir.string()};
  } else {
    args = {"train"};
    for (const json& a : run.at("args")) args.push_back(a.get<std::string>());
    args.push_back("--out=" + run_dir.string());
  }
  if (threads) args.push_back("--threads=" + *threads);
  const fs::path log = dir / "logs" / (name + ".log");
  std::printf("[%3lld] %s: %s (log %s)\n", run.at("index").get<long long>(), name.c_str(),
              resume ? "resuming" : "running", log.string().c_str());
  std::fflush(stdout);
  const int status = run_child(args, log);
  if (status != 0) {
    std::printf("[%3lld] %s: failed with exit status %d; see %s\n",
                run.at("index").get<long long>(), name.c_str(), status, log.string().c_str());
  }
  return status;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void check_slurm_field(const std::string& value, const char* option) {
  for (char c : value) {
    AR1_CHECK(std::isalnum(static_cast<unsigned char>(c)) || std::strchr(":-_.,", c) != nullptr,
              "[ar1] sweep: ", option, " '", value, "' has a character Slurm does not take there");
  }
}

std::string sbatch_script(const SweepArgs& s, const fs::path& dir, size_t runs) {
  const std::string abs_dir = fs::absolute(dir).lexically_normal().string();
  std::string t = "#!/bin/bash\n";
  t += "# ar1 sweep: " + std::to_string(runs) + " runs, one array task each (sweep.json). "
       "Written by ar1 sweep --slurm;\n# submit with: sbatch " + abs_dir + "/sweep.sbatch\n";
  t += "#SBATCH --job-name=ar1-" + dir.filename().string() + "\n";
  t += "#SBATCH --array=0-" + std::to_string(runs - 1) +
       (s.max_parallel.empty() ? "" : "%" + s.max_parallel) + "\n";
  if (!s.partition.empty()) t += "#SBATCH --partition=" + s.partition + "\n";
  t += "#SBATCH --time=" + s.time + "\n";
  t += "#SBATCH --mem=" + s.mem + "\n";
  t += "#SBATCH --cpus-per-task=" + s.cpus + "\n";
  t += "#SBATCH --ntasks=1\n";
  t += "#SBATCH --output=" + abs_dir + "/logs/slurm-%A_%a.out\n";
  t += "set -euo pipefail\n";
  // Relative paths in the runs' options (--data-root, --config) mean what they meant here.
  t += "cd " + shell_quote(fs::current_path().string()) + "\n";
  t += "# A task that was preempted or timed out continues from its last checkpoint when the\n"
       "# array is submitted again; finished runs are skipped.\n";
  t += "exec " + shell_quote(self_executable().string()) + " sweep --out " + shell_quote(abs_dir) +
       " --task \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-" + s.cpus + "}\"\n";
  return t;
}

int submit(const fs::path& script) {
  const std::string cmd = "sbatch --parsable " + shell_quote(script.string());
  std::fflush(nullptr);
  FILE* p = ::popen(cmd.c_str(), "r");
  AR1_CHECK(p != nullptr, "[ar1] sweep: cannot run sbatch: ", std::strerror(errno));
  char buf[256] = {};
  std::string out;
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = ::pclose(p);
  AR1_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "[ar1] sweep: sbatch failed (is "
            "Slurm installed and slurmctld reachable? `sinfo` tells); the script is ",
            script.string(), ", submit it by hand once Slurm answers");
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  std::printf("submitted job array %s; follow it with squeue -j %s\n", out.c_str(), out.c_str());
  return 0;
}

}  // namespace

int sweep_command(const std::vector<std::string>& args) {
  const SweepArgs s = split_args(args);
  if (s.help) {
    std::cout << kHelp;
    return 0;
  }
  AR1_CHECK(!s.out.empty(), "[ar1] sweep needs --out DIR (the sweep's folder)");
  const fs::path dir = s.out;
  if (s.task) {
    AR1_CHECK(s.sweeps.empty() && s.base.empty(), "[ar1] sweep --task runs a run of the sweep "
              "in --out as written; drop the other options (only --threads may be given)");
    const json p = read_plan(dir);
    const auto& runs = p.at("runs");
    AR1_CHECK(*s.task < static_cast<long long>(runs.size()), "[ar1] sweep: --task ", *s.task,
              " is past the last run of ", dir.string(), " (", runs.size(), " runs: 0 to ",
              runs.size() - 1, ")");
    fs::create_directories(dir / "logs");
    return run_one(dir, runs.at(static_cast<size_t>(*s.task)), s.threads);
  }
  AR1_CHECK(!s.submit || s.slurm, "[ar1] sweep: --submit goes with --slurm");
  // Checked before anything is written.
  check_slurm_field(s.partition, "--slurm-partition");
  check_slurm_field(s.time, "--slurm-time");
  check_slurm_field(s.mem, "--slurm-mem");
  const json p = fix_plan(s);
  const auto& runs = p.at("runs");
  if (s.slurm) {
    const fs::path script = dir / "sweep.sbatch";
    write_file_atomically(script, sbatch_script(s, dir, runs.size()), "ar1");
    fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
    std::printf("wrote %s: %zu array tasks; submit it with sbatch %s\n", script.string().c_str(),
                runs.size(), script.string().c_str());
    return s.submit ? submit(script) : 0;
  }
  std::printf("ar1 sweep: %zu runs in %s\n", runs.size(), dir.string().c_str());
  size_t failed = 0;
  for (const json& run : runs) {
    const int status = run_one(dir, run, s.threads);
    if (status == 130 || status == 143) {
      std::printf("stopped by a signal; run the same command again to continue\n");
      return status;
    }
    failed += status != 0;
  }
  if (failed > 0) {
    std::printf("%zu of %zu runs failed (logs in %s); fix the cause and run the same command "
                "again: finished runs are skipped\n", failed, runs.size(),
                (dir / "logs").string().c_str());
    return 1;
  }
  std::printf("all %zu runs finished; compare them with ar1 compare %s\n", runs.size(),
              dir.string().c_str());
  return 0;
}

}  // namespace ar1::cli
