#pragma once
// CWR* (Lomonaco & Maltoni 2017; SPEC.md section 3, steps "CWR*"): the output layer keeps one
// consolidated weight row per class seen so far. Before an experience the live rows are reset
// (zero, or the consolidated row for the classes in this experience); after it the rows
// trained on this experience are folded into the consolidated ones, weighted by how many
// examples each class has had before (past_j) and now (cur_j).
//
// It works on any [classes, features] output weight, so it serves any model and strategy.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace ar1::strategy {

class CwrStar {
 public:
  explicit CwrStar(int64_t num_classes);

  // cur_j[c] = examples of class c this experience (new data plus, after the first, replayed
  // labels). Resets `output_weight` in place: all rows zero, then the classes present this
  // time that were consolidated before get their consolidated row back.
  void before_experience(Tensor& output_weight, const std::vector<int64_t>& class_counts);
  // Consolidates the rows of this experience's classes, then loads every consolidated row
  // into `output_weight` (the weights used for evaluation).
  void after_experience(Tensor& output_weight);
  // Loads every consolidated row into `output_weight` (rows of unseen classes untouched).
  void load_consolidated(Tensor& output_weight) const;

  const std::vector<int64_t>& current_classes() const { return cur_class_; }
  const std::vector<int64_t>& past_counts() const { return past_j_; }
  bool consolidated(int64_t c) const { return past_j_[static_cast<size_t>(c)] > 0; }
  const Tensor& consolidated_weights() const { return saved_; }

  // Checkpoint state: consolidated rows, past and current counts.
  std::vector<std::pair<std::string, Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, Tensor>>& state);

 private:
  void check_weight(const Tensor& w) const;

  int64_t num_classes_;
  Tensor saved_;                 // [classes, features]; undefined until the first experience
  std::vector<int64_t> past_j_;  // examples consolidated so far, per class
  std::vector<int64_t> cur_j_;   // examples this experience, per class
  std::vector<int64_t> cur_class_;
};

}  // namespace ar1::strategy
