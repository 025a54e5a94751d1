#include "data/scenario.h"

#include <algorithm>

namespace ar1::data {

Experience make_experience(int64_t index, DatasetPtr parent, std::vector<int64_t> indices) {
  std::sort(indices.begin(), indices.end());
  Experience e;
  e.index = index;
  e.dataset = make_subset(std::move(parent), std::move(indices));
  e.classes_in_this_experience = classes_present(*e.dataset);
  return e;
}

}  // namespace ar1::data
