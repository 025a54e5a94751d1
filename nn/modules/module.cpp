// Implementation of nn/module.h (kept in modules/, which the nn target compiles).
#include "nn/module.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "kernels/device.h"
#include "nn/functional.h"

namespace ar1::nn {

std::string join_name(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  if (name.empty()) return prefix;
  return prefix + "." + name;
}

Tensor Module::forward(const Tensor&) {
  AR1_FAIL("[", type_name(), "] has no single-input forward; call its own forward overload");
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

// ---- registration ----

void Module::check_new_name(const std::string& name) const {
  AR1_CHECK(!name.empty() && name.find('.') == std::string::npos, "[", type_name(),
            "] invalid name '", name, "': names are non-empty and contain no dot");
  auto taken = [&](const StateDict& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  const bool child_taken = std::any_of(children_.begin(), children_.end(),
                                       [&](const auto& e) { return e.first == name; });
  AR1_CHECK(!taken(parameters_) && !taken(buffers_) && !child_taken, "[", type_name(),
            "] the name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name(name);
  check_defined(value, "Module", "parameter");
  value.set_requires_grad(true);
  order_.emplace_back(false, parameters_.size());
  parameters_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  check_new_name(name);
  check_defined(value, "Module", "buffer");
  order_.emplace_back(true, buffers_.size());
  buffers_.emplace_back(name, value);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name);
  AR1_CHECK(child != nullptr, "[", type_name(), "] child '", name, "' is null");
  children_.emplace_back(name, std::move(child));
}

// ---- tree ----

void Module::collect_modules(const std::string& prefix,
                             std::vector<std::pair<std::string, Module*>>& out) {
  out.emplace_back(prefix, this);
  for (auto& [name, child] : children_) child->collect_modules(join_name(prefix, name), out);
}

std::vector<std::pair<std::string, Module*>> Module::named_modules(const std::string& prefix) {
  std::vector<std::pair<std::string, Module*>> out;
  collect_modules(prefix, out);
  return out;
}

std::shared_ptr<Module> Module::child(const std::string& name) const {
  for (const auto& [n, c] : children_) {
    if (n == name) return c;
  }
  std::ostringstream names;
  for (const auto& [n, c] : children_) names << (names.tellp() > 0 ? ", " : "") << n;
  AR1_FAIL("[", type_name(), "] has no child '", name, "'; children: ",
           children_.empty() ? "(none)" : names.str());
}

Module& Module::module(const std::string& dotted_name) {
  Module* m = this;
  size_t start = 0;
  while (start <= dotted_name.size() && !dotted_name.empty()) {
    const size_t dot = dotted_name.find('.', start);
    const std::string part = dotted_name.substr(start, dot - start);
    m = m->child(part).get();
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *m;
}

// ---- state ----

void Module::collect_state(const std::string& prefix, bool params, bool buffers,
                           StateDict& out) const {
  for (const auto& [is_buffer, index] : order_) {
    if (is_buffer && buffers) {
      out.emplace_back(join_name(prefix, buffers_[index].first), buffers_[index].second);
    } else if (!is_buffer && params) {
      out.emplace_back(join_name(prefix, parameters_[index].first), parameters_[index].second);
    }
  }
  for (const auto& [name, child] : children_) {
    child->collect_state(join_name(prefix, name), params, buffers, out);
  }
}

StateDict Module::named_parameters(const std::string& prefix) const {
  StateDict out;
  collect_state(prefix, true, false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

StateDict Module::named_buffers(const std::string& prefix) const {
  StateDict out;
  collect_state(prefix, false, true, out);
  return out;
}

StateDict Module::state_dict(const std::string& prefix) const {
  StateDict out;
  collect_state(prefix, true, true, out);
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  const StateDict mine = state_dict();
  std::map<std::string, const Tensor*> given;
  std::vector<std::string> duplicated;
  for (const auto& [name, t] : state) {
    if (!given.emplace(name, &t).second) duplicated.push_back(name);
  }
  std::set<std::string> known;
  std::vector<std::string> missing, unexpected, misshaped;
  for (const auto& [name, t] : mine) {
    known.insert(name);
    auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(name);
    } else if (!it->second->defined() || it->second->shape() != t.shape()) {
      misshaped.push_back(name + " (expected " + shape_str(t.shape()) + ", got " +
                          (it->second->defined() ? shape_str(it->second->shape())
                                                 : std::string("undefined")) +
                          ")");
    }
  }
  for (const auto& [name, t] : state) {
    if (known.count(name) == 0) unexpected.push_back(name);
  }
  const bool bad = !misshaped.empty() || !duplicated.empty() ||
                   (strict && (!missing.empty() || !unexpected.empty()));
  if (bad) {
    std::ostringstream os;
    os << "[load_state_dict] " << type_name() << ": the state does not fit";
    auto list = [&os](const char* what, const std::vector<std::string>& names) {
      if (names.empty()) return;
      os << "; " << what << " (" << names.size() << "): ";
      for (size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << names[i];
    };
    list("mis-shaped", misshaped);
    list("duplicated", duplicated);
    if (strict) {
      list("missing", missing);
      list("unexpected", unexpected);
      os << "; pass strict = false to load only the names that match";
    }
    AR1_FAIL(os.str());
  }
  for (const auto& [name, dst] : mine) {
    auto it = given.find(name);
    if (it == given.end()) continue;
    Tensor src = *it->second;
    if (src.dtype() != dst.dtype()) src = to_device(src, Device::cpu()).to(dst.dtype());
    src = src.contiguous();
    AR1_CHECK(dst.is_contiguous(), "[load_state_dict] ", name,
              " is not a contiguous tensor in the module: ", dst.describe());
    const size_t bytes = static_cast<size_t>(dst.numel()) * dtype_size(dst.dtype());
    kernels::copy_bytes(dst.raw_data(), dst.device(), src.raw_data(), src.device(), bytes);
  }
}

void Module::to(Device device) {
  kernels::require_device(device);
  for (auto& [name, t] : state_dict()) {
    if (t.device() == device) continue;
    const Tensor moved = t.to(device);
    TensorImpl& impl = t.impl();
    impl.storage = moved.storage();
    impl.offset = moved.offset();
    impl.strides = moved.strides();
    impl.grad.reset();
  }
}

void Module::set_requires_grad(bool on) {
  for (auto& [name, t] : named_parameters()) {
    Tensor handle = t;
    handle.set_requires_grad(on);
    if (!on) handle.zero_grad();
  }
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) {
    Tensor handle = t;
    handle.zero_grad();
  }
}

}  // namespace ar1::nn
