#pragma once
// Sequential: children named "0", "1", ... applied in order. Slices share the same module
// objects (renumbered from 0), so a model can be cut at any layer without copying weights.
#include <memory>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace ar1::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& layers);
  std::string type_name() const override { return "Sequential"; }
  Tensor forward(const Tensor& x) override;

  // Appends a layer named after its position.
  void push_back(std::shared_ptr<Module> layer);
  int64_t size() const { return static_cast<int64_t>(layers_.size()); }
  bool empty() const { return layers_.empty(); }
  // Layer i; negative i counts from the end. Throws when out of range.
  const std::shared_ptr<Module>& operator[](int64_t i) const;
  template <class M>
  std::shared_ptr<M> at(int64_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    AR1_CHECK(m != nullptr, "[Sequential] layer ", i, " is a ", (*this)[i]->type_name(),
              ", not the type asked for");
    return m;
  }
  const std::vector<std::shared_ptr<Module>>& layers() const { return layers_; }
  // Layers [begin, end) as a new Sequential sharing the same modules; it takes this one's
  // training mode.
  std::shared_ptr<Sequential> slice(int64_t begin, int64_t end) const;

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

// Cuts `seq` before layer `index`: lower = layers [0, index), upper = [index, size), each a
// new Sequential (renumbered from 0) sharing the modules. index may be 0 or size (one side
// empty).
std::pair<std::shared_ptr<Sequential>, std::shared_ptr<Sequential>> split_sequential(
    const Sequential& seq, int64_t index);

}  // namespace ar1::nn
