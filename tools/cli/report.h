#pragma once
// report.html: one self-contained page per run directory. No network, no scripts, no
// external fonts: inline CSS and SVG plots drawn here. Large accuracy matrices (beyond
// kMaxVectorCells cells) are drawn as a PNG embedded in the SVG as a data URI, which keeps a
// CORe50 NICv2-391 report small.
#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ar1::cli {

inline constexpr double kNotEvaluated = std::numeric_limits<double>::quiet_NaN();

// What one training experience k of one strategy produced. NaN: not measured.
struct ExperienceStats {
  double stream_accuracy = kNotEvaluated;  // on the whole test stream after training k, 0..1
  double loss = kNotEvaluated;             // test stream loss after training k
  double seconds = kNotEvaluated;          // wall time of experience k (training)
  double peak_mib = kNotEvaluated;         // peak memory during experience k, MiB
};

struct StrategyRun {
  std::string name;                          // "AR1", "Naive"
  std::vector<ExperienceStats> experiences;  // index: training experience k
  // accuracy[k][j]: after training experience k, accuracy (0..1) on test experience j;
  // NaN where not evaluated. Rows may be shorter than others (missing = NaN); may be empty.
  std::vector<std::vector<double>> accuracy;
  // class_accuracy[k][c]: after training experience k, accuracy on the test images of class c
  // (NaN: none in the test stream). From the stream confusion matrix; may be empty.
  std::vector<std::vector<double>> class_accuracy;
  // The last evaluation's confusion matrix (rows: true class, columns: predicted), counts.
  std::vector<std::vector<double>> confusion;
};

// Evaluations that blew up without a NaN: a test loss above kBlowUpLoss with the stream
// accuracy at most 1.5 x chance (1 / num_classes). Seen on long Fashion-MNIST NIC streams: the
// accuracy sits at exactly chance and the loss in the hundreds.
inline constexpr double kBlowUpLoss = 100.0;
// "experience 12: test loss 312.5 with stream accuracy 0.1000 (chance 0.1000) ..." for every
// such experience of `run`.
std::vector<std::string> blowup_warnings(const StrategyRun& run, long long num_classes);

struct RunReport {
  std::string title = "ar1 run";
  long long num_classes = 0;  // for blowup_warnings (0: not checked)
  std::string date;                                         // as the caller wants it shown
  std::vector<std::pair<std::string, std::string>> config;  // resolved options, in order
  // runs[0] is the main (AR1) run: its matrix is the heat map. Others (baselines) appear in
  // the summary and the per-experience plots.
  std::vector<StrategyRun> runs;
};

// Cells up to this count are SVG rectangles (with a tooltip each); larger matrices are one
// embedded PNG. Values are written in the cells up to kMaxLabelledSide on both sides.
inline constexpr std::size_t kMaxVectorCells = 2500;
inline constexpr std::size_t kMaxLabelledSide = 30;

std::string render_report(const RunReport& report);

// Writes through a temporary file in the same directory, flushed to disk, then renamed over
// `path`: a reader sees the old file or the whole new one, never a partial one.
void write_report(const std::filesystem::path& path, const RunReport& report);

// compare.html of `ar1 compare`: one table (a row per group of runs that differ only in seed)
// and the stream accuracy and loss curves of every run, coloured by group. Self-contained as
// report.html is.
struct ComparedRun {
  std::string name;   // the run directory's name
  std::size_t group;  // index into ComparisonPage::groups
  StrategyRun run;
};
struct ComparisonPage {
  std::string title = "ar1 compare";
  std::string date;
  std::vector<std::string> header;             // the table's columns
  std::vector<std::vector<std::string>> rows;  // one per group, in group order
  std::vector<std::string> groups;             // names: the options that tell them apart
  std::vector<ComparedRun> runs;
  std::vector<std::string> notes;              // shown above the table (unfinished runs, ...)
};
std::string render_comparison(const ComparisonPage& page);

// &, <, >, " and ' as entities.
std::string html_escape(std::string_view text);

}  // namespace ar1::cli
