#pragma once
// Module: the base of every layer and model. A module owns named parameters (trainable
// tensors), named buffers (state such as running statistics) and named children; names join
// with dots along the tree ("lat_features.3.conv.weight"), in registration order.
//
// To write a layer: derive from Module, register parameters, buffers and children in the
// constructor (register_parameter / register_buffer / register_module), keep the returned
// handles as members, and implement forward() as one functional call. Handles are never
// reassigned: load_state_dict() copies into the registered tensors in place, so optimisers and
// other holders of a handle see the new values.
#include <concepts>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace ar1::nn {

// Name -> tensor, in a fixed order (parameters and buffers interleaved per module, as
// registered). The same shape of list as ar1::NamedTensors in core/io/safetensors.h.
using StateDict = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // A short type name for messages and printing ("Conv2d").
  virtual std::string type_name() const = 0;
  // The single-input forward used by Sequential; modules with other signatures throw.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // ---- modes ----
  // Sets this module and every descendant to training (true) or evaluation (false) mode.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Sets only this module's own flag, leaving its children as they are.
  void set_own_training(bool on) { training_ = on; }

  // ---- tree ----
  // Direct children, in registration order.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // This module (name = prefix) and every descendant, depth first, with dotted names.
  std::vector<std::pair<std::string, Module*>> named_modules(const std::string& prefix = "");
  // The child (or descendant, dotted path) called `name`; throws listing the children.
  std::shared_ptr<Module> child(const std::string& name) const;
  Module& module(const std::string& dotted_name);

  // ---- parameters and buffers ----
  // Every parameter of this module and its descendants (dotted names), registration order.
  StateDict named_parameters(const std::string& prefix = "") const;
  std::vector<Tensor> parameters() const;
  StateDict named_buffers(const std::string& prefix = "") const;
  // Parameters and buffers of each module, module by module (depth first).
  StateDict state_dict(const std::string& prefix = "") const;

  // Copies `state` into the registered tensors in place (converting dtype to f32 where
  // needed). Validates everything before copying anything. A name whose shape differs is
  // always an error; with strict, names missing from `state` and names `state` has but the
  // module does not are errors too. One ar1::Error lists every bad name.
  void load_state_dict(const StateDict& state, bool strict = true);
  // The same from a std::map / std::unordered_map of name -> Tensor (a template so that a
  // braced list still picks the StateDict overload).
  template <class Map>
    requires std::same_as<typename Map::mapped_type, Tensor>
  void load_state_dict(const Map& state, bool strict = true) {
    load_state_dict(StateDict(state.begin(), state.end()), strict);
  }

  // Moves every parameter and buffer here and below to `device`, in place: the tensor handles
  // (held by layers, optimisers, plugins) stay valid and now see the device copy, as
  // torch.nn.Module.to does with .data. Gradients are dropped. Call it before building an
  // optimiser, whose momentum buffers live where the parameters were.
  void to(Device device);

  // Freezing: sets requires_grad of every parameter here and below (frozen parameters get no
  // gradient and are skipped by the optimiser).
  void set_requires_grad(bool on);
  // Drops the gradient of every parameter here and below.
  void zero_grad();

 protected:
  // Registers a trainable tensor (requires_grad set); returns the handle to keep.
  Tensor register_parameter(const std::string& name, Tensor value);
  // Registers state that is saved but not trained (no gradient).
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }
  void add_child(const std::string& name, std::shared_ptr<Module> child);

 private:
  void check_new_name(const std::string& name) const;
  void collect_state(const std::string& prefix, bool params, bool buffers, StateDict& out) const;
  void collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out);

  bool training_ = true;
  StateDict parameters_;
  StateDict buffers_;
  // Registration order across parameters and buffers, for state_dict: (is_buffer, index).
  std::vector<std::pair<bool, size_t>> order_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// Joins a prefix and a name with a dot ("" + "x" = "x").
std::string join_name(const std::string& prefix, const std::string& name);

}  // namespace ar1::nn
