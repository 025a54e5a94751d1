#pragma once
// CsvLogger: two tables in `directory` (created if missing), headers first, one row as each
// result arrives (rows are flushed, so `tail -f` works):
//
//   training_results.csv   training_exp,epoch,accuracy,loss,seconds        one row per epoch
//   eval_results.csv       eval_exp,training_exp,accuracy,loss,forgetting  one row per
//                          evaluated experience; training_exp = experiences trained so far - 1
//
// training_exp is the count of experiences trained before (the clock's train_exp_counter),
// epoch is 0-based. A missing value (forgetting before anything can be forgotten, a metric
// not in the evaluator) is an empty field. Both files are written as <name>.partial and renamed
// into place by close() (or the destructor; see strategy/loggers/partial_file.h).
#include <filesystem>
#include <memory>

#include "strategy/loggers/partial_file.h"
#include "strategy/loggers/summary_logger.h"

namespace ar1::strategy {

class CsvLogger final : public SummaryLogger {
 public:
  explicit CsvLogger(const std::filesystem::path& directory);

  // Renames both files into place; later calls do nothing.
  void close();

  std::filesystem::path training_path() const { return training_->path(); }
  std::filesystem::path eval_path() const { return eval_->path(); }

 protected:
  void on_epoch(const EpochSummary& e) override;
  void on_eval(const EvalSummary& e) override;

 private:
  std::unique_ptr<PartialFile> training_, eval_;
};

}  // namespace ar1::strategy
