#include "strategy/loggers/text_logger.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace ar1::strategy {

namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);  // at most 10 redraws a second
constexpr int kBarWidth = 20;

// printf into a std::string.
template <class... Args>
std::string format(const char* fmt, Args... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

// A value with `decimals` digits, or "-" when the metric is missing; right-aligned in `width`.
std::string number(double v, int decimals, int width = 0) {
  if (std::isnan(v)) return format("%*s", width, "-");
  return format("%*.*f", width, decimals, v);
}

std::string duration(double seconds) {
  if (seconds < 10) return format("%.1fs", seconds);
  if (seconds < 60) return format("%.0fs", seconds);
  const long long s = std::llround(seconds);
  if (s < 3600) return format("%lldm%02llds", s / 60, s % 60);
  return format("%lldh%02lldm", s / 3600, (s % 3600) / 60);
}

}  // namespace

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

TextLogger::TextLogger(std::ostream& out, bool interactive)
    : out_(out), interactive_(interactive) {}

void TextLogger::on_epoch_start(const EpochProgress& p) {
  bar_open_ = false;
  drawn_width_ = 0;
  last_ = p;
  if (interactive_) draw(p);
}

void TextLogger::on_iteration(const EpochProgress& p) {
  last_ = p;
  if (!interactive_) return;
  const auto now = std::chrono::steady_clock::now();
  if (p.iteration < p.iterations && now - last_draw_ < kRedrawInterval) return;
  draw(p);
}

void TextLogger::draw(const EpochProgress& p) {
  std::string line = format("exp %lld epoch %lld/%lld ", static_cast<long long>(p.training_exp),
                            static_cast<long long>(p.epoch + 1), static_cast<long long>(p.epochs));
  const int64_t total = p.iterations > 0 ? p.iterations : 1;
  const int filled = static_cast<int>(std::min<int64_t>(kBarWidth, kBarWidth * p.iteration / total));
  line += '[' + std::string(static_cast<size_t>(filled), '#') +
          std::string(static_cast<size_t>(kBarWidth - filled), '-') + ']';
  const int digits = static_cast<int>(std::to_string(p.iterations).size());
  line += format(" %*lld/%lld", digits, static_cast<long long>(p.iteration),
                 static_cast<long long>(p.iterations));
  line += " loss " + number(p.loss, 4) + " acc " + number(p.accuracy, 4);
  if (p.iteration > 0 && p.iteration < p.iterations) {
    const double per_iteration = p.seconds / static_cast<double>(p.iteration);
    line += " eta " + duration(per_iteration * static_cast<double>(p.iterations - p.iteration));
  } else if (p.iteration > 0) {
    line += " time " + duration(p.seconds);
  }
  const size_t width = line.size();
  if (width < drawn_width_) line += std::string(drawn_width_ - width, ' ');
  out_ << '\r' << line << std::flush;
  drawn_width_ = width;
  last_draw_ = std::chrono::steady_clock::now();
  bar_open_ = true;
}

void TextLogger::on_epoch(const EpochSummary& e) {
  if (interactive_) {
    // Finish the bar with the epoch's final values, then leave it on its own line.
    last_.loss = e.loss;
    last_.accuracy = e.accuracy;
    if (!std::isnan(e.seconds)) last_.seconds = e.seconds;
    draw(last_);
    out_ << '\n' << std::flush;
    bar_open_ = false;
    return;
  }
  out_ << format("exp %lld epoch %lld/%lld loss %s acc %s time %ss\n",
                 static_cast<long long>(e.training_exp), static_cast<long long>(e.epoch + 1),
                 static_cast<long long>(e.epochs), number(e.loss, 6).c_str(),
                 number(e.accuracy, 4).c_str(), number(e.seconds, 2).c_str())
       << std::flush;
}

void TextLogger::on_eval(const EvalSummary& e) {
  if (bar_open_) {  // an evaluation in the middle of an epoch (a plugin called eval())
    out_ << '\n';
    bar_open_ = false;
  }
  if (e.training_exp >= 0) {
    out_ << "eval " << e.stream << " after training exp " << e.training_exp << '\n';
  } else {
    out_ << "eval " << e.stream << " before training\n";
  }
  out_ << "  exp  accuracy      loss  forgetting\n";
  for (const ExperienceResult& r : e.experiences) {
    out_ << format("  %3lld  %8s  %8s  %10s\n", static_cast<long long>(r.experience),
                   number(r.accuracy, 4).c_str(), number(r.loss, 6).c_str(),
                   number(r.forgetting, 4).c_str());
  }
  out_ << "  stream accuracy " << number(e.accuracy, 4) << "  loss " << number(e.loss, 6);
  if (!std::isnan(e.forgetting)) out_ << "  forgetting " << number(e.forgetting, 4);
  out_ << '\n' << std::flush;
}

}  // namespace ar1::strategy
