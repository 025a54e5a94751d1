#pragma once
// CWR* as a plugin, usable with any strategy whose model has a [classes, features] output
// weight: resets the output rows before each experience and consolidates them after it
// (strategy/cwr_star.h). Class counts come from the experience's targets plus, when given,
// extra counts (AR1 adds the labels in its replay memory).
#include <functional>
#include <string>

#include "strategy/cwr_star.h"
#include "strategy/plugin.h"

namespace ar1::strategy {

class CwrStarPlugin final : public Plugin {
 public:
  bool graph_safe() const override { return true; }  // queues device work only
  using ExtraCounts = std::function<std::vector<int64_t>(SupervisedTemplate&)>;

  CwrStarPlugin(int64_t num_classes, std::string output_weight = "output.weight",
                ExtraCounts extra = {});
  void before_training_exp(SupervisedTemplate& s) override;
  void after_training_exp(SupervisedTemplate& s) override;

  CwrStar& cwr() { return cwr_; }

 private:
  Tensor weight(SupervisedTemplate& s) const;

  CwrStar cwr_;
  std::string output_weight_;
  ExtraCounts extra_;
};

}  // namespace ar1::strategy
