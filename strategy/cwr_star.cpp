#include "strategy/cwr_star.h"

#include <cmath>
#include <cstring>

namespace ar1::strategy {

CwrStar::CwrStar(int64_t num_classes)
    : num_classes_(num_classes),
      past_j_(static_cast<size_t>(num_classes), 0),
      cur_j_(static_cast<size_t>(num_classes), 0) {
  AR1_CHECK(num_classes > 0, "[cwr*] needs at least one class, got ", num_classes);
}

void CwrStar::check_weight(const Tensor& w) const {
  check_dtype(w, DType::f32, "cwr*", "output weight");
  AR1_CHECK(w.dim() == 2 && w.size(0) == num_classes_ && w.is_contiguous(),
            "[cwr*] output weight ", w.describe(), " must be a contiguous [", num_classes_,
            ", features] matrix");
  AR1_CHECK(!saved_.defined() || saved_.shape() == w.shape(), "[cwr*] output weight ",
            w.describe(), " does not match the consolidated weights ", saved_.describe());
}

void CwrStar::before_experience(Tensor& w, const std::vector<int64_t>& class_counts) {
  check_weight(w);
  AR1_CHECK(static_cast<int64_t>(class_counts.size()) == num_classes_, "[cwr*] ",
            class_counts.size(), " class counts for ", num_classes_, " classes");
  if (!saved_.defined()) saved_ = Tensor::zeros(w.shape());
  cur_j_ = class_counts;
  cur_class_.clear();
  for (int64_t c = 0; c < num_classes_; ++c) {
    if (cur_j_[static_cast<size_t>(c)] > 0) cur_class_.push_back(c);
  }
  const int64_t features = w.size(1);
  float* pw = w.data<float>();
  std::memset(pw, 0, static_cast<size_t>(w.numel()) * sizeof(float));
  for (int64_t c : cur_class_) {
    if (consolidated(c)) {
      std::memcpy(pw + c * features, saved_.data<float>() + c * features,
                  static_cast<size_t>(features) * sizeof(float));
    }
  }
}

void CwrStar::after_experience(Tensor& w) {
  check_weight(w);
  AR1_CHECK(saved_.defined(), "[cwr*] after_experience() before before_experience()");
  const int64_t features = w.size(1);
  const float* pw = w.data<float>();
  float* ps = saved_.data<float>();
  // avg: the mean of every entry of the rows trained this experience.
  double sum = 0;
  for (int64_t c : cur_class_) {
    for (int64_t f = 0; f < features; ++f) sum += pw[c * features + f];
  }
  const double avg = cur_class_.empty() ? 0.0 : sum / static_cast<double>(cur_class_.size() * features);
  for (int64_t c : cur_class_) {
    const auto ci = static_cast<size_t>(c);
    if (consolidated(c)) {
      const double p = std::sqrt(static_cast<double>(past_j_[ci]) / cur_j_[ci]);
      for (int64_t f = 0; f < features; ++f) {
        const double w_new = pw[c * features + f] - avg;
        ps[c * features + f] = static_cast<float>((ps[c * features + f] * p + w_new) / (p + 1));
      }
      past_j_[ci] += cur_j_[ci];
    } else {
      for (int64_t f = 0; f < features; ++f) {
        ps[c * features + f] = static_cast<float>(pw[c * features + f] - avg);
      }
      past_j_[ci] = cur_j_[ci];
    }
  }
  load_consolidated(w);
}

void CwrStar::load_consolidated(Tensor& w) const {
  check_weight(w);
  if (!saved_.defined()) return;
  const int64_t features = w.size(1);
  for (int64_t c = 0; c < num_classes_; ++c) {
    if (!consolidated(c)) continue;
    std::memcpy(w.data<float>() + c * features, saved_.data<float>() + c * features,
                static_cast<size_t>(features) * sizeof(float));
  }
}

std::vector<std::pair<std::string, Tensor>> CwrStar::state() const {
  std::vector<std::pair<std::string, Tensor>> s;
  if (saved_.defined()) s.emplace_back("cwr.saved", saved_);
  s.emplace_back("cwr.past_j", Tensor::from_i64(past_j_, {num_classes_}));
  s.emplace_back("cwr.cur_j", Tensor::from_i64(cur_j_, {num_classes_}));
  return s;
}

void CwrStar::load_state(const std::vector<std::pair<std::string, Tensor>>& state) {
  for (const auto& [name, t] : state) {
    if (name == "cwr.saved") {
      AR1_CHECK(t.dim() == 2 && t.size(0) == num_classes_, "[cwr*] checkpoint cwr.saved is ",
                t.describe(), ", expected [", num_classes_, ", features]");
      saved_ = t.to(DType::f32).clone();
    } else if (name == "cwr.past_j" || name == "cwr.cur_j") {
      AR1_CHECK(t.dtype() == DType::i64 && t.numel() == num_classes_, "[cwr*] checkpoint ",
                name, " is ", t.describe(), ", expected i64[", num_classes_, "]");
      (name == "cwr.past_j" ? past_j_ : cur_j_) = t.to_vector<int64_t>();
    }
  }
  cur_class_.clear();
  for (int64_t c = 0; c < num_classes_; ++c) {
    if (cur_j_[static_cast<size_t>(c)] > 0) cur_class_.push_back(c);
  }
}

}  // namespace ar1::strategy
