#pragma once
// What a run directory remembers besides the checkpoint's tensors: the metric history and the
// per-experience figures of the report, as JSON text (stored in the checkpoint's metadata so
// that a resumed run ends with the same metrics and report as an uninterrupted one).
#include <string>
#include <vector>

#include "strategy/metrics/evaluation_plugin.h"
#include "tools/cli/report.h"

namespace ar1::cli {

std::string history_to_json(const std::vector<strategy::MetricValue>& history);
std::vector<strategy::MetricValue> history_from_json(const std::string& text);

std::string run_to_json(const StrategyRun& run);
StrategyRun run_from_json(const std::string& text);

// Per-class accuracy (diagonal over row sums; NaN for a class with no test image) of a
// confusion matrix.
std::vector<double> class_accuracy_of(const std::vector<std::vector<double>>& confusion);

// results.json: the per-experience figures of every strategy of a run directory, and whether
// the run finished (`ar1 sweep` skips finished runs; `ar1 compare` reads them).
struct RunResults {
  bool finished = false;
  std::vector<StrategyRun> runs;
};
std::string results_to_json(const RunResults& results);
// `source` names the file in errors.
RunResults results_from_json(const std::string& text, const std::string& source);

// metrics.jsonl: one JSON object per metric value.
std::string history_to_json_lines(const std::vector<strategy::MetricValue>& history);
// training_results.csv (one row per epoch) and eval_results.csv (one row per evaluated
// experience) from the metric history.
std::string training_csv(const std::vector<strategy::MetricValue>& history);
std::string eval_csv(const std::vector<strategy::MetricValue>& history);

}  // namespace ar1::cli
