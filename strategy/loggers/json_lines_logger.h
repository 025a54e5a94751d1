#pragma once
// JsonLinesLogger: every metric value as one JSON object per line, in the order the
// evaluator records them:
//
//   {"name":"Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp000","value":0.75,"x":120}
//   {"name":"ConfusionMatrix_Stream/eval_phase/test_stream","value":[[3,1],[0,4]],"x":120}
//
// x is the training iteration when the value was emitted. Matrix values (the confusion matrix)
// are nested arrays, rows first. Numbers are nlohmann-json's shortest text that reads back
// as the same double (integral values as integers: 2, not 2.0); NaN and infinities are null. Written as <path>.partial and renamed to <path> by
// close() (or the destructor; see strategy/loggers/partial_file.h).
#include <filesystem>
#include <string>

#include "strategy/loggers/partial_file.h"
#include "strategy/metrics/evaluation_plugin.h"

namespace ar1::strategy {

class JsonLinesLogger final : public Logger {
 public:
  bool graph_safe() const override { return true; }
  explicit JsonLinesLogger(const std::filesystem::path& path);

  void log(const MetricValue& value) override;
  // Lines are buffered; they reach the .partial file at least after every epoch and
  // evaluation.
  void after_training_epoch(SupervisedTemplate&) override { file_.flush(); }
  void after_eval(SupervisedTemplate&) override { file_.flush(); }

  // Renames the file into place; later calls do nothing.
  void close() { file_.commit(); }
  const std::filesystem::path& path() const { return file_.path(); }

 private:
  PartialFile file_;
};

// One MetricValue as a JSON object, no trailing newline.
std::string to_json_line(const MetricValue& value);

}  // namespace ar1::strategy
