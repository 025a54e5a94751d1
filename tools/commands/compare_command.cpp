// `ar1 compare RUN_DIR... [--html FILE]`: runs side by side. Runs whose configs differ only in
// seed form a group; the table gives each metric's mean +- sample standard deviation over a
// group, and compare.html adds the curves of every run. A sweep folder (ar1 sweep --out) stands
// for all its runs.
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "tools/cli/report.h"
#include "tools/commands/commands.h"
#include "tools/commands/run_record.h"

namespace ar1::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kHelp =
    "Usage: ar1 compare RUN_DIR... [--html FILE]\n"
    "Compare runs: one table of mean +- std per metric over the runs that differ only in seed,\n"
    "and a self-contained HTML page with the curves of every run.\n\n"
    "  RUN_DIR       a run directory (ar1 train --out) or a sweep folder (ar1 sweep --out)\n"
    "  --html FILE   where the page goes (default: compare.html)\n";

// Options that say how a run used the machine or where it wrote, not what it computed: they
// do not split groups. The seed does not either: it is what a group varies.
const std::set<std::string> kNotGrouping = {"seed", "out", "resume", "threads", "workers",
                                            "stop_after"};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct LoadedRun {
  std::string name;
  json config;  // without kNotGrouping
  StrategyRun run;
  bool finished = false;
};

// The run directories named by the arguments, a sweep folder standing for its runs.
std::vector<fs::path> expand(const std::vector<std::string>& given) {
  std::vector<fs::path> out;
  for (const std::string& g : given) {
    const fs::path p = g;
    AR1_CHECK(fs::is_directory(p), "[ar1] compare: ", g, " is not a directory: pass run "
              "directories (ar1 train --out) or sweep folders (ar1 sweep --out)");
    if (fs::exists(p / "sweep.json")) {
      try {
        const json plan = json::parse(read_text(p / "sweep.json"));
        for (const json& run : plan.at("runs")) out.push_back(p / run.at("dir").get<std::string>());
      } catch (const json::exception& e) {
        AR1_FAIL("[ar1] compare: ", (p / "sweep.json").string(), " is not a sweep.json ar1 "
                 "wrote (", e.what(), ")");
      }
    } else {
      AR1_CHECK(fs::exists(p / "config.json"), "[ar1] compare: ", g, " is neither a run "
                "directory (no config.json) nor a sweep folder (no sweep.json)");
      out.push_back(p);
    }
  }
  return out;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? kNotEvaluated : s / static_cast<double>(v.size());
}

// Sample standard deviation (n - 1); NaN for fewer than two values.
double std_of(const std::vector<double>& v) {
  if (v.size() < 2) return kNotEvaluated;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

struct Metric {
  const char* name;
  int decimals;
  double (*of)(const StrategyRun&);
};

double final_accuracy(const StrategyRun& r) {
  return r.experiences.empty() ? kNotEvaluated : r.experiences.back().stream_accuracy;
}
double average_accuracy(const StrategyRun& r) {
  std::vector<double> v;
  for (const auto& e : r.experiences)
    if (std::isfinite(e.stream_accuracy)) v.push_back(e.stream_accuracy);
  return mean_of(v);
}
double final_loss(const StrategyRun& r) {
  return r.experiences.empty() ? kNotEvaluated : r.experiences.back().loss;
}
double train_seconds(const StrategyRun& r) {
  double s = 0;
  for (const auto& e : r.experiences) s += std::isfinite(e.seconds) ? e.seconds : 0;
  return r.experiences.empty() ? kNotEvaluated : s;
}
double peak_mib(const StrategyRun& r) {
  double p = kNotEvaluated;
  for (const auto& e : r.experiences)
    if (std::isfinite(e.peak_mib)) p = std::isfinite(p) ? std::max(p, e.peak_mib) : e.peak_mib;
  return p;
}

const Metric kMetrics[] = {
    {"final accuracy", 4, final_accuracy}, {"average accuracy", 4, average_accuracy},
    {"final loss", 4, final_loss},         {"train time (s)", 1, train_seconds},
    {"peak MiB", 0, peak_mib},
};

std::string format_stat(const std::vector<double>& v, int decimals) {
  std::vector<double> finite;
  for (double x : v)
    if (std::isfinite(x)) finite.push_back(x);
  if (finite.empty()) return "-";
  char buf[96];
  const double sd = std_of(finite);
  if (std::isfinite(sd)) {
    std::snprintf(buf, sizeof buf, "%.*f +- %.*f", decimals, mean_of(finite), decimals, sd);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, mean_of(finite));
  }
  return buf;
}

// A group's name: its values of the options on which groups differ ("lr=0.01"), or "all runs".
std::vector<std::string> group_names(const std::vector<json>& configs) {
  std::set<std::string> differing;
  for (const json& c : configs) {
    for (const auto& [key, value] : c.items()) {
      for (const json& other : configs) {
        if (!other.contains(key) || other.at(key) != value) differing.insert(key);
      }
    }
  }
  std::vector<std::string> names;
  for (const json& c : configs) {
    std::string name;
    for (const std::string& key : differing) {
      if (!name.empty()) name += " ";
      const json v = c.value(key, json());
      name += key + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    names.push_back(name.empty() ? "all runs" : name);
  }
  return names;
}

}  // namespace

int compare_command(const std::vector<std::string>& args) {
  std::vector<std::string> given;
  std::string html = "compare.html";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    }
    if (a == "--html" || a.rfind("--html=", 0) == 0) {
      if (a == "--html") {
        AR1_CHECK(i + 1 < args.size(), "[ar1] compare: --html needs a file name");
        html = args[++i];
      } else {
        html = a.substr(7);
      }
      continue;
    }
    AR1_CHECK(a.rfind("--", 0) != 0, "[ar1] compare: unknown option ", a,
              " (known: --html FILE); see ar1 compare --help");
    given.push_back(a);
  }
  AR1_CHECK(!given.empty(), "[ar1] compare needs run directories or sweep folders: ar1 compare "
            "runs/a runs/b, or ar1 compare SWEEP_DIR");

  ComparisonPage page;
  std::vector<LoadedRun> runs;
  for (const fs::path& dir : expand(given)) {
    const fs::path results = dir / "results.json";
    if (!fs::exists(results)) {
      page.notes.push_back(dir.string() + ": no results yet (not started, or stopped during its "
                           "first experience); left out");
      continue;
    }
    LoadedRun r;
    r.name = dir.filename().string();
    const RunResults rr = results_from_json(read_text(results), results.string());
    AR1_CHECK(!rr.runs.empty(), "[ar1] compare: ", results.string(), " holds no strategy run");
    r.run = rr.runs.front();
    r.finished = rr.finished;
    try {
      r.config = json::parse(read_text(dir / "config.json"));
    } catch (const json::exception& e) {
      AR1_FAIL("[ar1] compare: ", (dir / "config.json").string(), " is not valid JSON (", e.what(), ")");
    }
    for (const std::string& key : kNotGrouping) r.config.erase(key);
    if (!r.finished) {
      page.notes.push_back(dir.string() + ": unfinished (" + std::to_string(r.run.experiences.size()) +
                           " experiences so far); its figures are those of its last experience");
    }
    runs.push_back(std::move(r));
  }
  AR1_CHECK(!runs.empty(), "[ar1] compare: none of the runs has results yet (no results.json)");

  std::vector<json> configs;
  for (const LoadedRun& r : runs) configs.push_back(r.config);
  const std::vector<std::string> names = group_names(configs);
  std::map<std::string, size_t> index;
  std::vector<std::vector<const LoadedRun*>> members;
  for (size_t i = 0; i < runs.size(); ++i) {
    auto [it, fresh] = index.emplace(names[i], page.groups.size());
    if (fresh) {
      page.groups.push_back(names[i]);
      members.emplace_back();
    }
    members[it->second].push_back(&runs[i]);
    page.runs.push_back({runs[i].name, it->second, runs[i].run});
  }

  page.header = {"group", "runs"};
  for (const Metric& m : kMetrics) page.header.push_back(m.name);
  for (size_t g = 0; g < page.groups.size(); ++g) {
    std::vector<std::string> row = {page.groups[g], std::to_string(members[g].size())};
    for (const Metric& m : kMetrics) {
      std::vector<double> values;
      for (const LoadedRun* r : members[g]) values.push_back(m.of(r->run));
      row.push_back(format_stat(values, m.decimals));
    }
    page.rows.push_back(std::move(row));
  }

  // The table on stdout, columns padded to their widest cell.
  std::vector<size_t> width(page.header.size(), 0);
  for (size_t c = 0; c < page.header.size(); ++c) {
    width[c] = page.header[c].size();
    for (const auto& row : page.rows) width[c] = std::max(width[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    for (size_t c = 0; c < row.size(); ++c) {
      std::printf("%s%-*s", c ? "  " : "", static_cast<int>(width[c]), row[c].c_str());
    }
    std::printf("\n");
  };
  for (const std::string& n : page.notes) std::printf("note: %s\n", n.c_str());
  print_row(page.header);
  for (const auto& row : page.rows) print_row(row);

  const std::time_t t = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&t));
  page.date = std::string(date) + ", " + std::to_string(runs.size()) + " runs in " +
              std::to_string(page.groups.size()) + " groups";
  write_file_atomically(html, render_comparison(page), "ar1");
  std::printf("\nwrote %s\n", html.c_str());
  return 0;
}

}  // namespace ar1::cli
