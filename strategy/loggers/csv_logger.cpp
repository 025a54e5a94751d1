#include "strategy/loggers/csv_logger.h"

#include <system_error>

#include "core/error.h"
#include "strategy/loggers/number_format.h"

namespace ar1::strategy {

CsvLogger::CsvLogger(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  AR1_CHECK(!ec, "[csv_logger] cannot create the directory ", directory, " (", ec.message(),
            "); choose a directory you can write to");
  training_ = std::make_unique<PartialFile>(directory / "training_results.csv", "csv_logger");
  eval_ = std::make_unique<PartialFile>(directory / "eval_results.csv", "csv_logger");
  training_->stream() << "training_exp,epoch,accuracy,loss,seconds\n";
  eval_->stream() << "eval_exp,training_exp,accuracy,loss,forgetting\n";
  training_->flush();
  eval_->flush();
}

void CsvLogger::close() {
  training_->commit();
  eval_->commit();
}

void CsvLogger::on_epoch(const EpochSummary& e) {
  if (training_->committed()) return;
  training_->stream() << e.training_exp << ',' << e.epoch << ','
                      << shortest_number(e.accuracy, "") << ',' << shortest_number(e.loss, "")
                      << ',' << shortest_number(e.seconds, "") << '\n';
  training_->flush();
}

void CsvLogger::on_eval(const EvalSummary& e) {
  if (eval_->committed()) return;
  for (const ExperienceResult& r : e.experiences) {
    eval_->stream() << r.experience << ',' << e.training_exp << ','
                    << shortest_number(r.accuracy, "") << ',' << shortest_number(r.loss, "")
                    << ',' << shortest_number(r.forgetting, "") << '\n';
  }
  eval_->flush();
}

}  // namespace ar1::strategy
