#include "nn/optim/sgd.h"

#include <map>

#include "kernels/sgd.h"

namespace ar1::nn {

SGD::SGD(StateDict named_parameters, const SGDOptions& options)
    : params_(std::move(named_parameters)), velocity_(params_.size()), options_(options) {
  for (const auto& [name, p] : params_) {
    check_defined(p, "SGD", name.c_str());
    AR1_CHECK(p.dtype() == DType::f32 && p.is_contiguous(), "[SGD] parameter ", name, " is ",
              p.describe(), "; only contiguous f32 parameters are supported");
  }
}

void SGD::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor w = params_[i].second;
    const Tensor g_t = w.grad();
    if (!g_t.defined()) continue;
    check_same_device(w, g_t, "SGD");
    const Tensor g = g_t.contiguous();
    kernels::SgdDesc d;
    d.n = w.numel();
    d.lr = static_cast<float>(options_.lr);
    d.momentum = static_cast<float>(options_.momentum);
    d.weight_decay = static_cast<float>(options_.weight_decay);
    Tensor& v = velocity_[i];
    d.first = !v.defined();
    if (d.momentum != 0.f && d.first) v = Tensor::empty(w.shape(), DType::f32, w.device());
    float* pv = d.momentum != 0.f ? static_cast<float*>(v.raw_data()) : nullptr;
    kernels::sgd_update(w.device(), static_cast<float*>(w.raw_data()), pv,
                        static_cast<const float*>(g.raw_data()), d);
  }
}

void SGD::zero_grad() {
  for (auto& [name, p] : params_) {
    Tensor handle = p;
    handle.zero_grad();
  }
}

void SGD::reset_momentum() {
  for (Tensor& v : velocity_) v = Tensor();
}

StateDict SGD::state() const {
  StateDict out;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (velocity_[i].defined()) out.emplace_back(params_[i].first, velocity_[i].clone());
  }
  return out;
}

void SGD::load_state(const StateDict& state) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < params_.size(); ++i) index.emplace(params_[i].first, i);
  std::vector<std::pair<size_t, Tensor>> loaded;
  for (const auto& [name, t] : state) {
    auto it = index.find(name);
    AR1_CHECK(it != index.end(), "[SGD] load_state: '", name,
              "' is not a parameter of this optimiser");
    const Tensor& p = params_[it->second].second;
    AR1_CHECK(t.defined() && t.shape() == p.shape() && t.dtype() == DType::f32,
              "[SGD] load_state: momentum of '", name, "' is ",
              t.defined() ? t.describe() : std::string("undefined"), ", expected f32",
              shape_str(p.shape()));
    loaded.emplace_back(it->second, t.contiguous().to(p.device()).clone());
  }
  reset_momentum();
  for (auto& [i, t] : loaded) velocity_[i] = t.detach();
}

}  // namespace ar1::nn
