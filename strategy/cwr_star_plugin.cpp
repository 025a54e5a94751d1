#include "strategy/cwr_star_plugin.h"

#include "core/grad_mode.h"
#include "strategy/template.h"

namespace ar1::strategy {

CwrStarPlugin::CwrStarPlugin(int64_t num_classes, std::string output_weight, ExtraCounts extra)
    : cwr_(num_classes), output_weight_(std::move(output_weight)), extra_(std::move(extra)) {}

Tensor CwrStarPlugin::weight(SupervisedTemplate& s) const {
  for (auto& [name, p] : s.model().named_parameters()) {
    if (name == output_weight_) return p;
  }
  AR1_FAIL("[cwr*] the model has no parameter '", output_weight_, "'");
}

void CwrStarPlugin::before_training_exp(SupervisedTemplate& s) {
  Tensor w = weight(s);
  std::vector<int64_t> counts(static_cast<size_t>(w.size(0)), 0);
  for (int64_t y : s.experience()->targets()) {
    AR1_CHECK(y >= 0 && y < w.size(0), "[cwr*] label ", y, " outside the ", w.size(0),
              " output rows");
    ++counts[static_cast<size_t>(y)];
  }
  if (extra_) {
    const std::vector<int64_t> more = extra_(s);
    for (size_t c = 0; c < more.size() && c < counts.size(); ++c) counts[c] += more[c];
  }
  NoGradGuard no_grad;
  cwr_.before_experience(w, counts);
}

void CwrStarPlugin::after_training_exp(SupervisedTemplate& s) {
  Tensor w = weight(s);
  NoGradGuard no_grad;
  cwr_.after_experience(w);
}

}  // namespace ar1::strategy
