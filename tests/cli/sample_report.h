#pragma once
// Synthetic run reports for the report tests and the browser check.
#include <cmath>
#include <string>

#include "tools/cli/report.h"

namespace ar1::cli::testing {

// `n` experiences of AR1 (and Naive when `baseline`), a full n x n accuracy matrix with
// NaN above the diagonal when `triangular` (experience j not seen yet after k < j).
inline RunReport sample_report(std::size_t n, bool baseline, bool triangular = false) {
  RunReport r;
  r.title = "AR1 on Fashion-MNIST (NIC)";
  r.date = "2024-01-02 03:04";
  r.config = {{"lr", "0.001"}, {"inc-lr", "5e-05"}, {"rm-sz", "1500"}, {"device", "cpu"}};
  auto make = [&](const std::string& name, double quality) {
    StrategyRun run;
    run.name = name;
    for (std::size_t k = 0; k < n; ++k) {
      double t = n > 1 ? double(k) / double(n - 1) : 1.0;
      ExperienceStats e;
      e.stream_accuracy = quality * (0.3 + 0.5 * t) + 0.02 * std::sin(double(k));
      e.loss = 2.3 - 1.5 * t * quality;
      e.seconds = 10.0 + 3.0 * std::cos(double(k));
      e.peak_mib = 400.0 + 2.0 * double(k);
      run.experiences.push_back(e);
      std::vector<double> row(n);
      for (std::size_t j = 0; j < n; ++j)
        row[j] = triangular && j > k ? kNotEvaluated
                                     : 0.5 + 0.45 * std::sin(double(k * 7 + j * 3)) * quality;
      run.accuracy.push_back(std::move(row));
    }
    return run;
  };
  r.runs.push_back(make("AR1", 1.0));
  if (baseline) r.runs.push_back(make("Naive", 0.4));
  return r;
}

}  // namespace ar1::cli::testing
