#include "core/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/autograd/engine.h"
#include "core/autograd/node.h"
#include "core/device_backend.h"
#include "core/grad_mode.h"
#include "core/half.h"
#include "core/memory_format.h"

namespace ar1 {

namespace {

std::shared_ptr<TensorImpl> make_impl(std::shared_ptr<Storage> storage, const Shape& shape,
                                      DType dtype, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->offset = offset;
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return impl;
}

void check_shape(const Shape& shape, const char* op) {
  for (int64_t d : shape) {
    AR1_CHECK(d >= 0, "[", op, "] negative extent in shape ", shape_str(shape));
  }
}

// A view sharing `src`'s storage with new geometry; no graph.
Tensor make_view(const Tensor& src, const Shape& shape, const Strides& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = src.storage();
  impl->offset = offset;
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = src.dtype();
  return Tensor(std::move(impl));
}

void require_cpu(const Tensor& t, const char* op) {
  AR1_CHECK(t.device().is_cpu(), "[", op, "] needs a cpu tensor, got ", t.describe(),
            "; copy it to the cpu first (.to(Device::cpu()))");
}

// ---- backward nodes of the view ops ----

class ReshapeBackward final : public autograd::Node {
 public:
  std::string name() const override { return "ReshapeBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {g.reshape(input_shapes[0])};
  }
};

class SliceBackward final : public autograd::Node {
 public:
  SliceBackward(int64_t begin, int64_t end) : begin_(begin), end_(end) {}
  std::string name() const override { return "SliceBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor full = Tensor::zeros(input_shapes[0], DType::f32, g.device());
    const int64_t row = end_ > begin_ ? g.numel() / (end_ - begin_) : 0;
    copy_to_contiguous(g, static_cast<float*>(full.raw_data()) + begin_ * row);
    return {full};
  }

 private:
  int64_t begin_, end_;
};

class ConcatBackward final : public autograd::Node {
 public:
  std::string name() const override { return "ConcatBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    std::vector<Tensor> grads;
    int64_t row = 0;
    for (const Shape& s : input_shapes) {
      const int64_t n = s.empty() ? 0 : s[0];
      grads.push_back(g.slice(row, row + n).contiguous());
      row += n;
    }
    return grads;
  }
};

class ContiguousBackward final : public autograd::Node {
 public:
  std::string name() const override { return "ContiguousBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g}; }
};

}  // namespace

// ---------------------------------------------------------------- creation

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "empty");
  const size_t bytes = static_cast<size_t>(numel_of(shape)) * dtype_size(dtype);
  return Tensor(make_impl(Storage::allocate(bytes, device), shape, dtype, 0));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(dtype);
  if (device.is_cpu()) {
    std::memset(t.raw_data(), 0, bytes);
  } else {
    device_backend(device).set_zero(device, t.raw_data(), bytes);
  }
  return t;
}

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, DType::f32, device);
  if (!device.is_cpu()) {
    device_backend(device).fill_f32(device, static_cast<float*>(t.raw_data()), value, t.numel());
    return t;
  }
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = value;
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape) {
  AR1_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape), "[from_vector] ",
            values.size(), " values do not fill shape ", shape_str(shape));
  Tensor t = empty(shape);
  std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor Tensor::from_i64(const std::vector<int64_t>& values, const Shape& shape) {
  AR1_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape), "[from_vector] ",
            values.size(), " values do not fill shape ", shape_str(shape));
  Tensor t = empty(shape, DType::i64);
  std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

Tensor Tensor::from_storage(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype,
                            int64_t offset) {
  check_shape(shape, "from_storage");
  const size_t need = static_cast<size_t>(offset + numel_of(shape)) * dtype_size(dtype);
  AR1_CHECK(need <= storage->bytes(), "[from_storage] shape ", shape_str(shape), " at offset ",
            offset, " needs ", need, " bytes, storage has ", storage->bytes());
  return Tensor(make_impl(std::move(storage), shape, dtype, offset));
}

// ---------------------------------------------------------------- metadata

TensorImpl& Tensor::impl() const {
  AR1_CHECK(impl_ != nullptr, "[tensor] use of an undefined tensor");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  AR1_CHECK(d >= -n && d < n, "[tensor] dim ", d, " out of range for shape ",
            shape_str(shape()));
  return shape()[static_cast<size_t>(d < 0 ? d + n : d)];
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape().size(); i-- > 0;) {
    if (shape()[i] == 1) continue;
    if (strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return std::string(dtype_name(dtype())) + shape_str(shape()) + " " + device().str();
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage()->data()) +
         static_cast<size_t>(offset()) * dtype_size(dtype());
}

void* Tensor::checked_data(DType want) const {
  AR1_CHECK(dtype() == want, "[tensor] data<", dtype_name(want), ">() on a ", describe(),
            " tensor; convert with .to(DType::", dtype_name(want), ")");
  require_cpu(*this, "data");
  return raw_data();
}

float Tensor::item() const {
  AR1_CHECK(numel() == 1, "[item] needs exactly one element, got ", describe());
  if (!device().is_cpu()) return to(Device::cpu()).item();
  return contiguous().data<float>()[0];
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  if (!device().is_cpu()) return to(Device::cpu()).to_vector<T>();
  Tensor c = contiguous();
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

// ---------------------------------------------------------------- copies

namespace {

StridedView strided_view(const Shape& shape, const Strides& strides, const char* op) {
  StridedView v;
  AR1_CHECK(shape.size() <= StridedView::kMaxDims, "[", op, "] ", shape.size(), "-d tensors "
            "are not supported on a GPU (at most ", StridedView::kMaxDims, " dims)");
  v.ndim = static_cast<int>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) v.shape[i] = shape[i], v.strides[i] = strides[i];
  return v;
}

}  // namespace

void copy_to_contiguous(const Tensor& src, void* dst) {
  const size_t elem = dtype_size(src.dtype());
  const int64_t n = src.numel();
  if (n == 0) return;
  if (!src.device().is_cpu()) {
    DeviceBackend& b = device_backend(src.device());
    if (src.is_contiguous()) {
      b.copy_bytes(dst, src.device(), src.raw_data(), src.device(), static_cast<size_t>(n) * elem);
    } else {
      b.gather_strided(src.device(), dst, src.raw_data(),
                       strided_view(src.shape(), src.strides(), "copy"), elem);
    }
    return;
  }
  if (src.is_contiguous()) {
    std::memcpy(dst, src.raw_data(), static_cast<size_t>(n) * elem);
    return;
  }
  if (src.dtype() == DType::f32 && is_channels_last(src)) {
    const Shape& s = src.shape();
    nhwc_to_nchw(static_cast<float*>(dst), static_cast<const float*>(src.raw_data()), s[0], s[1],
                 s[2] * s[3]);
    return;
  }
  // Odometer over all but the last dim; the last dim is copied in a strided inner loop.
  const Shape& shape = src.shape();
  const Strides& strides = src.strides();
  const size_t nd = shape.size();
  const char* base = static_cast<const char*>(src.raw_data());
  char* out = static_cast<char*>(dst);
  std::vector<int64_t> idx(nd, 0);
  const int64_t inner = shape[nd - 1];
  const int64_t inner_stride = strides[nd - 1] * static_cast<int64_t>(elem);
  for (int64_t done = 0; done < n; done += inner) {
    int64_t off = 0;
    for (size_t d = 0; d + 1 < nd; ++d) off += idx[d] * strides[d];
    const char* p = base + off * static_cast<int64_t>(elem);
    for (int64_t i = 0; i < inner; ++i) {
      std::memcpy(out, p + i * inner_stride, elem);
      out += elem;
    }
    for (size_t d = nd - 1; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  Tensor out = empty(shape(), dtype(), device());
  copy_to_contiguous(*this, out.raw_data());
  if (autograd::needs_graph({this})) {
    autograd::record(std::make_shared<ContiguousBackward>(), {this}, out);
  }
  return out;
}

Tensor Tensor::to_channels_last() const {
  AR1_CHECK(dim() == 4 && dtype() == DType::f32,
            "[to_channels_last] needs a 4-D f32 tensor [N, C, H, W], got ", describe());
  if (is_channels_last(*this)) return *this;
  Tensor out = empty_channels_last(shape(), device());
  const Shape& s = shape();
  if (device().is_cpu()) {
    const Tensor src = contiguous();
    nchw_to_nhwc(static_cast<float*>(out.raw_data()), static_cast<const float*>(src.raw_data()),
                 s[0], s[1], s[2] * s[3]);
  } else {
    // The dense [N, H, W, C] order of the result, read through this tensor's strides.
    const Strides& st = strides();
    device_backend(device()).gather_strided(
        device(), out.raw_data(), raw_data(),
        strided_view({s[0], s[2], s[3], s[1]}, {st[0], st[2], st[3], st[1]}, "to_channels_last"),
        sizeof(float));
  }
  if (autograd::needs_graph({this})) {
    // The same logical values: the gradient passes through in whatever layout it comes.
    autograd::record(std::make_shared<ContiguousBackward>(), {this}, out);
  }
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  copy_to_contiguous(*this, out.raw_data());
  if (autograd::needs_graph({this})) {
    autograd::record(std::make_shared<ContiguousBackward>(), {this}, out);
  }
  return out;
}

// ---------------------------------------------------------------- views

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape target = new_shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      AR1_CHECK(infer < 0, "[reshape] only one -1 allowed in ", shape_str(new_shape));
      infer = static_cast<int>(i);
    } else {
      AR1_CHECK(target[i] >= 0, "[reshape] negative extent in ", shape_str(new_shape));
      known *= target[i];
    }
  }
  if (infer >= 0) {
    AR1_CHECK(known > 0 && numel() % known == 0, "[reshape] cannot infer -1 reshaping ",
              describe(), " to ", shape_str(new_shape));
    target[static_cast<size_t>(infer)] = numel() / known;
  }
  AR1_CHECK(numel_of(target) == numel(), "[reshape] cannot reshape ", describe(), " (",
            numel(), " elements) to ", shape_str(new_shape));
  Tensor src = contiguous();
  Tensor out = make_view(src, target, contiguous_strides(target), src.offset());
  if (autograd::needs_graph({&src})) {
    autograd::record(std::make_shared<ReshapeBackward>(), {&src}, out);
  }
  return out;
}

Tensor Tensor::flatten(int64_t start_dim) const {
  const int64_t n = dim();
  AR1_CHECK(start_dim >= 0 && start_dim <= n, "[flatten] start_dim ", start_dim,
            " out of range for ", describe());
  Shape s(shape().begin(), shape().begin() + start_dim);
  int64_t rest = 1;
  for (int64_t i = start_dim; i < n; ++i) rest *= shape()[static_cast<size_t>(i)];
  s.push_back(rest);
  return reshape(s);
}

Tensor Tensor::slice(int64_t begin, int64_t end) const {
  AR1_CHECK(dim() >= 1, "[slice] cannot slice a 0-d tensor");
  const int64_t rows = shape()[0];
  AR1_CHECK(0 <= begin && begin <= end && end <= rows, "[slice] rows [", begin, ", ", end,
            ") out of range for ", describe());
  Shape s = shape();
  s[0] = end - begin;
  Tensor out = make_view(*this, s, strides(), offset() + begin * strides()[0]);
  if (autograd::needs_graph({this})) {
    autograd::record(std::make_shared<SliceBackward>(begin, end), {this}, out);
  }
  return out;
}

Tensor Tensor::concat(const std::vector<Tensor>& parts) {
  AR1_CHECK(!parts.empty(), "[concat] needs at least one tensor");
  const Tensor& first = parts.front();
  check_defined(first, "concat", "part 0");
  AR1_CHECK(first.dim() >= 1, "[concat] cannot concatenate 0-d tensors");
  Shape out_shape = first.shape();
  out_shape[0] = 0;
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Tensor& p = parts[i];
    check_defined(p, "concat", "part");
    check_same_device(p, first, "concat");
    AR1_CHECK(p.dtype() == first.dtype() && p.dim() == first.dim() &&
                  std::equal(p.shape().begin() + 1, p.shape().end(), first.shape().begin() + 1),
              "[concat] part ", i, " is ", p.describe(), ", part 0 is ", first.describe(),
              ": all parts need the same dtype and the same shape after dim 0");
    out_shape[0] += p.shape()[0];
    inputs.push_back(&p);
  }
  // Channels-last parts stay channels-last: each is then one dense block in batch order.
  const bool channels_last = std::all_of(parts.begin(), parts.end(), [](const Tensor& p) {
    return p.dtype() == DType::f32 && is_channels_last(p);
  });
  const Device device = first.device();
  Tensor out = channels_last ? empty_channels_last(out_shape, device)
                             : empty(out_shape, first.dtype(), device);
  char* dst = static_cast<char*>(out.raw_data());
  for (const Tensor& p : parts) {
    if (channels_last && device.is_cpu()) {
      std::memcpy(dst, p.raw_data(), static_cast<size_t>(p.numel()) * sizeof(float));
    } else if (channels_last) {
      device_backend(device).copy_bytes(dst, device, p.raw_data(), device,
                                        static_cast<size_t>(p.numel()) * sizeof(float));
    } else {
      copy_to_contiguous(p, dst);
    }
    dst += static_cast<size_t>(p.numel()) * dtype_size(p.dtype());
  }
  if (autograd::needs_graph(inputs)) {
    autograd::record(std::make_shared<ConcatBackward>(), inputs, out);
  }
  return out;
}

// ---------------------------------------------------------------- conversions

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return detach();
  if (!device().is_cpu()) {
    if (target == DType::i64 || dtype() == DType::i64) {
      // Rare (labels), and f32 -> i64 checks every value: converted on the host.
      return to(Device::cpu()).to(target).to(device());
    }
    const Tensor src = contiguous();
    Tensor out = empty(shape(), target, device());
    device_backend(device()).convert(device(), out.raw_data(), target, src.raw_data(), dtype(),
                                     numel());
    return out;
  }
  Tensor src = contiguous();
  Tensor out = empty(shape(), target);
  const int64_t n = numel();
  auto read = [&](int64_t i) -> float {
    switch (src.dtype()) {
      case DType::f32: return static_cast<const float*>(src.raw_data())[i];
      case DType::i64: return static_cast<float>(static_cast<const int64_t*>(src.raw_data())[i]);
      case DType::u8: return static_cast<const uint8_t*>(src.raw_data())[i];
      case DType::f16: return half_to_float(static_cast<const uint16_t*>(src.raw_data())[i]);
      case DType::bf16:
        return bfloat16_to_float(static_cast<const uint16_t*>(src.raw_data())[i]);
    }
    return 0.f;
  };
  void* dst = out.raw_data();
  for (int64_t i = 0; i < n; ++i) {
    const float v = read(i);
    switch (target) {
      case DType::f32: static_cast<float*>(dst)[i] = v; break;
      case DType::i64:
        AR1_CHECK(std::isfinite(v), "[to] cannot convert ", v, " to i64");
        static_cast<int64_t*>(dst)[i] = static_cast<int64_t>(v);
        break;
      case DType::u8:
        static_cast<uint8_t*>(dst)[i] = float_to_u8(v);
        break;
      case DType::f16: static_cast<uint16_t*>(dst)[i] = float_to_half(v); break;
      case DType::bf16: static_cast<uint16_t*>(dst)[i] = float_to_bfloat16(v); break;
    }
  }
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  const Tensor src = contiguous();
  Tensor out = empty(shape(), dtype(), target);
  const size_t bytes = static_cast<size_t>(numel()) * dtype_size(dtype());
  if (bytes > 0) {
    device_backend(target.is_cpu() ? device() : target)
        .copy_bytes(out.raw_data(), target, src.raw_data(), device(), bytes);
  }
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage();
  impl->offset = offset();
  impl->shape = shape();
  impl->strides = strides();
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

// ---------------------------------------------------------------- autograd

bool Tensor::requires_grad() const { return impl().requires_grad || impl().grad_fn != nullptr; }

Tensor& Tensor::set_requires_grad(bool on) {
  AR1_CHECK(is_leaf(), "[requires_grad] only leaves can be marked; ", describe(),
            " is the result of ", impl().grad_fn ? "a recorded op" : "?",
            " (use .detach() to make a leaf)");
  AR1_CHECK(!on || dtype() == DType::f32, "[requires_grad] only f32 tensors can require "
            "gradients, got ", describe());
  impl().requires_grad = on;
  return *this;
}

void Tensor::set_grad(const Tensor& g) {
  AR1_CHECK(!g.defined() || g.shape() == shape(), "[set_grad] gradient ", g.describe(),
            " does not match ", describe());
  impl().grad = g.defined() ? g.impl_ptr() : nullptr;
}

void Tensor::set_grad_fn(std::shared_ptr<autograd::Node> fn) { impl().grad_fn = std::move(fn); }

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  autograd::run_backward(*this, grad, retain_graph);
}

// ---------------------------------------------------------------- checks

void check_defined(const Tensor& t, const char* op, const char* what) {
  AR1_CHECK(t.defined(), "[", op, "] ", what, " is an undefined tensor");
}

void check_dtype(const Tensor& t, DType want, const char* op, const char* what) {
  check_defined(t, op, what);
  AR1_CHECK(t.dtype() == want, "[", op, "] ", what, " must be ", dtype_name(want), ", got ",
            t.describe());
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  AR1_CHECK(a.device() == b.device(), "[", op, "] inputs on different devices: ", a.describe(),
            " and ", b.describe(), "; move one with .to(device)");
}

}  // namespace ar1
