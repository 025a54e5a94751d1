#include "strategy/cwr_star.h"

#include <cmath>
#include <cstring>

#include "kernels/cwr_star.h"
#include "kernels/device.h"
#include "kernels/elementwise.h"

namespace ar1::strategy {

namespace {

float* row_of(const Tensor& t, int64_t row) {
  return static_cast<float*>(t.raw_data()) + row * t.size(1);
}

// Copies row `row` of src into dst (both [classes, features] on one device).
void copy_row(const Tensor& dst, const Tensor& src, int64_t row) {
  kernels::copy_bytes(row_of(dst, row), dst.device(), row_of(src, row), src.device(),
                      static_cast<size_t>(dst.size(1)) * sizeof(float));
}

// Host values as a tensor on `device` (raw bytes: the kernels read them as T).
template <class T>
Tensor on_device(const std::vector<T>& values, Device device) {
  Tensor host = Tensor::empty({static_cast<int64_t>(values.size() * sizeof(T))}, DType::u8);
  if (!values.empty()) std::memcpy(host.raw_data(), values.data(), values.size() * sizeof(T));
  return host.to(device);
}

}  // namespace

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
  if (!saved_.defined()) saved_ = Tensor::zeros(w.shape(), DType::f32, w.device());
  saved_ = saved_.to(w.device());  // a checkpoint loads it on the cpu
  cur_j_ = class_counts;
  cur_class_.clear();
  for (int64_t c = 0; c < num_classes_; ++c) {
    if (cur_j_[static_cast<size_t>(c)] > 0) cur_class_.push_back(c);
  }
  kernels::fill(w.device(), static_cast<float*>(w.raw_data()), 0.f, w.numel());
  for (int64_t c : cur_class_) {
    if (consolidated(c)) copy_row(w, saved_, c);
  }
}

void CwrStar::after_experience(Tensor& w) {
  check_weight(w);
  AR1_CHECK(saved_.defined(), "[cwr*] after_experience() before before_experience()");
  saved_ = saved_.to(w.device());
  // Per trained row: the weight of its old consolidated value, p = sqrt(past_j / cur_j), or
  // -1 for a class seen for the first time (kernels/cwr_star.h).
  std::vector<double> weight;
  for (int64_t c : cur_class_) {
    const auto ci = static_cast<size_t>(c);
    weight.push_back(consolidated(c) ? std::sqrt(static_cast<double>(past_j_[ci]) / cur_j_[ci])
                                     : -1.0);
  }
  const Device dev = w.device();
  const Tensor rows = on_device(cur_class_, dev), p = on_device(weight, dev);
  kernels::cwr_consolidate(dev, static_cast<float*>(saved_.raw_data()),
                           static_cast<const float*>(w.raw_data()),
                           static_cast<const int64_t*>(rows.raw_data()),
                           static_cast<const double*>(p.raw_data()),
                           {static_cast<int64_t>(cur_class_.size()), w.size(1)});
  for (int64_t c : cur_class_) {
    const auto ci = static_cast<size_t>(c);
    past_j_[ci] = consolidated(c) ? past_j_[ci] + cur_j_[ci] : cur_j_[ci];
  }
  load_consolidated(w);
}

void CwrStar::load_consolidated(Tensor& w) const {
  check_weight(w);
  if (!saved_.defined()) return;
  for (int64_t c = 0; c < num_classes_; ++c) {
    if (consolidated(c)) copy_row(w, saved_, c);
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
