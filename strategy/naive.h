#pragma once
// Naive: plain fine-tuning on each experience in turn, the baseline every continual-learning
// strategy is compared with. It is the template with nothing overridden.
#include "strategy/template.h"

namespace ar1::strategy {

class Naive final : public SupervisedTemplate {
 public:
  using SupervisedTemplate::SupervisedTemplate;
};

}  // namespace ar1::strategy
