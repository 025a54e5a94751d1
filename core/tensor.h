#pragma once
// Tensor: a cheap, shared handle to (storage, element offset, shape, strides, dtype)
// plus autograd state. Copies of a Tensor alias the same data; views (reshape, flatten,
// slice) alias the same Storage. Undefined tensors (default-constructed) stand for "no value",
// e.g. an absent gradient.
//
// Differentiable view ops live here because they are part of the tensor's identity; compute
// ops live in nn/functional and run through kernels/dispatch.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace ar1 {

namespace autograd {
class Node;
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Strides strides;
  DType dtype = DType::f32;

  // Autograd: a leaf that wants a gradient has requires_grad set; a result of a recorded op
  // has grad_fn set instead.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation (on the CPU unless a device is given) ----
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  static Tensor ones(const Shape& shape) { return full(shape, 1.f); }
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape);
  static Tensor from_i64(const std::vector<int64_t>& values, const Shape& shape);
  static Tensor scalar(float value) { return from_vector(std::vector<float>{value}, {}); }
  // A tensor over existing storage; the caller vouches that the extent fits.
  static Tensor from_storage(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype,
                             int64_t offset = 0);

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t d) const;
  int64_t numel() const { return numel_of(impl().shape); }
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  bool is_contiguous() const;
  std::string describe() const;  // "f32[2, 3] cpu", for messages

  // ---- element access (data<T>: CPU and matching dtype; item and to_vector copy from any
  // device, waiting for it) ----
  template <class T> T* data() { return static_cast<T*>(checked_data(dtype_of<T>::value)); }
  template <class T> const T* data() const {
    return static_cast<const T*>(checked_data(dtype_of<T>::value));
  }
  void* raw_data() const;  // start of this tensor's elements, any dtype or device
  float item() const;      // the single f32 element
  template <class T> std::vector<T> to_vector() const;

  // ---- differentiable views and copies ----
  Tensor reshape(const Shape& shape) const;   // a view when contiguous, else a copy
  Tensor flatten(int64_t start_dim = 1) const;  // dims start_dim.. merged into one
  Tensor slice(int64_t begin, int64_t end) const;  // rows [begin, end) along dim 0, a view
  Tensor contiguous() const;                     // itself when already contiguous
  Tensor to_channels_last() const;  // 4-D f32: itself when already channels-last, else a copy
  Tensor clone() const;                          // always a fresh contiguous copy
  static Tensor concat(const std::vector<Tensor>& parts);  // along dim 0

  // ---- conversions (not differentiable) ----
  Tensor to(DType dtype) const;  // f32 <-> f16/bf16/u8 (u8 saturates and rounds), i64 <-> f32
  // A dense copy on `device` (itself when already there); host -> device copies are queued on
  // the device's stream through pinned staging memory, device -> host copies wait for it.
  Tensor to(Device device) const;
  Tensor detach() const;         // same data, no graph

  // ---- autograd ----
  bool requires_grad() const;  // leaf flag, or produced by a recorded op
  Tensor& set_requires_grad(bool on);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g);
  void zero_grad() { impl().grad.reset(); }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }
  void set_grad_fn(std::shared_ptr<autograd::Node> fn);
  // Gradient of this scalar (or of sum(this * grad) when `grad` is given) with respect to
  // every leaf that requires one; frees the graph unless retain_graph.
  void backward(const Tensor& grad = {}, bool retain_graph = false) const;

  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same_impl(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  void* checked_data(DType want) const;
  std::shared_ptr<TensorImpl> impl_;
};

// Copies the elements of `src` (any strides, any device) densely into `dst`, on src's device.
void copy_to_contiguous(const Tensor& src, void* dst);

// Checks used by ops: throw with the op's name and the offending shapes.
void check_defined(const Tensor& t, const char* op, const char* what);
void check_dtype(const Tensor& t, DType want, const char* op, const char* what);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);

}  // namespace ar1
