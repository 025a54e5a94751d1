#pragma once
// Memory layout of a tensor's elements. Plain tensors are strided (shape + strides). A backend
// may keep an activation in its own blocked layout between consecutive ops (oneDNN's nChw16c,
// say) so that reorders happen only at the model's edges: such a tensor carries an
// OpaqueLayout that only that backend understands. Core treats its storage as bytes; ops that
// need plain elements ask the backend to reorder first (kernels::to_plain).
#include <cstddef>
#include <memory>
#include <string>

namespace ar1 {

class OpaqueLayout {
 public:
  virtual ~OpaqueLayout() = default;
  virtual std::string name() const = 0;   // e.g. "onednn:aBcd16b", for error messages
  virtual size_t bytes() const = 0;       // storage the layout needs, padding included
};

}  // namespace ar1
