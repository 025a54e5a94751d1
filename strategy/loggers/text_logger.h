#pragma once
// TextLogger: progress for people. On a terminal (interactive) each training epoch gets a
// progress bar redrawn in place with '\r' at most ten times a second:
//
//   exp 0 epoch 1/4 [########------------]  12/30 loss 0.6931 acc 0.5000 eta 3s
//
// otherwise (a file, a pipe, a CI log) one plain line per epoch:
//
//   exp 0 epoch 1/4 loss 0.693147 acc 0.5000 time 1.23s
//
// After every evaluation, a table of the evaluated experiences and the stream accuracy:
//
//   eval test_stream after training exp 1
//     exp  accuracy      loss  forgetting
//       0    0.7500  0.512345      0.2500
//       1    1.0000  0.313262           -
//     stream accuracy 0.8750  loss 0.412804  forgetting 0.2500
//
// Add it to the evaluator: evaluator->add_logger(std::make_shared<TextLogger>(std::cout,
// stdout_is_terminal())).
#include <chrono>
#include <ostream>

#include "strategy/loggers/summary_logger.h"

namespace ar1::strategy {

// Whether standard output is a terminal (isatty), the usual choice for `interactive`.
bool stdout_is_terminal();

class TextLogger final : public SummaryLogger {
 public:
  explicit TextLogger(std::ostream& out, bool interactive = false);

 protected:
  void on_epoch_start(const EpochProgress& p) override;
  void on_iteration(const EpochProgress& p) override;
  void on_epoch(const EpochSummary& e) override;
  void on_eval(const EvalSummary& e) override;

 private:
  void draw(const EpochProgress& p);

  std::ostream& out_;
  bool interactive_;
  std::chrono::steady_clock::time_point last_draw_;
  size_t drawn_width_ = 0;  // characters of the bar on screen (to blank a shorter redraw)
  EpochProgress last_;
  bool bar_open_ = false;
};

}  // namespace ar1::strategy
