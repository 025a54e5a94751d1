#include "strategy/latent_replay_memory.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "kernels/dequantize.h"
#include "kernels/device_runtime.h"
#include "nn/functional.h"

namespace ar1::strategy {

ReplayDType parse_replay_dtype(const std::string& name) {
  if (name == "f32") return ReplayDType::f32;
  if (name == "f16") return ReplayDType::f16;
  if (name == "bf16") return ReplayDType::bf16;
  if (name == "u8") return ReplayDType::u8;
  AR1_FAIL("[replay] unknown replay_dtype '", name, "'; use f32, f16, bf16 or u8");
}

std::string replay_dtype_name(ReplayDType t) {
  switch (t) {
    case ReplayDType::f32: return "f32";
    case ReplayDType::f16: return "f16";
    case ReplayDType::bf16: return "bf16";
    case ReplayDType::u8: return "u8";
  }
  return "?";
}

ReplayPlacement parse_replay_placement(const std::string& name) {
  if (name == "auto") return ReplayPlacement::automatic;
  if (name == "device") return ReplayPlacement::device;
  if (name == "host") return ReplayPlacement::host;
  AR1_FAIL("[replay] unknown replay placement '", name, "'; use auto, device or host");
}

std::string replay_placement_name(ReplayPlacement p) {
  switch (p) {
    case ReplayPlacement::automatic: return "auto";
    case ReplayPlacement::device: return "device";
    case ReplayPlacement::host: return "host";
  }
  return "?";
}

bool replay_fits_on_device(size_t bytes, size_t free_bytes, double share) {
  return static_cast<double>(bytes) <= share * static_cast<double>(free_bytes);
}

namespace {
DType storage_dtype(ReplayDType t) {
  switch (t) {
    case ReplayDType::f32: return DType::f32;
    case ReplayDType::f16: return DType::f16;
    case ReplayDType::bf16: return DType::bf16;
    case ReplayDType::u8: return DType::u8;
  }
  return DType::f32;
}
}  // namespace

LatentReplayMemory::LatentReplayMemory(int64_t capacity, ReplayDType dtype)
    : capacity_(capacity), dtype_(dtype) {
  AR1_CHECK(capacity >= 0, "[replay] rm_sz must be >= 0, got ", capacity);
}

size_t LatentReplayMemory::bytes() const {
  size_t total = 0;
  for (const Tensor* t : {&activations_, &labels_, &scale_, &offset_}) {
    if (t->defined()) total += static_cast<size_t>(t->numel()) * dtype_size(t->dtype());
  }
  return total;
}

void LatentReplayMemory::serve_on(Device device, ReplayPlacement placement, double device_share) {
  AR1_CHECK(!activations_.defined(), "[replay] serve_on() must come before the first rows are "
            "stored");
  AR1_CHECK(device_share > 0 && device_share <= 1, "[replay] device share must be in (0, 1], "
            "got ", device_share);
  serve_device_ = device;
  placement_ = placement;
  device_share_ = device_share;
}

std::string LatentReplayMemory::placement() const {
  if (serve_device_.is_cpu()) return "cpu";
  return mirrored_ ? "device" : "host";
}

void LatentReplayMemory::allocate(const Shape& row_shape) {
  row_shape_ = row_shape;
  Shape full{capacity_};
  full.insert(full.end(), row_shape.begin(), row_shape.end());
  const DType dtype = storage_dtype(dtype_);
  mirrored_ = false;
  if (serve_device_.is_cuda()) {
    const size_t need = static_cast<size_t>(numel_of(full)) * dtype_size(dtype);
    mirrored_ = placement_ == ReplayPlacement::device ||
                (placement_ == ReplayPlacement::automatic &&
                 replay_fits_on_device(need, kernels::device_memory(serve_device_).free_bytes,
                                       device_share_));
  }
  if (serve_device_.is_cuda() && !mirrored_) {
    activations_ = kernels::pinned_host_tensor(full, dtype, serve_device_);
    std::memset(activations_.raw_data(), 0, static_cast<size_t>(numel_of(full)) * dtype_size(dtype));
  } else {
    activations_ = Tensor::zeros(full, dtype);
  }
  labels_ = Tensor::zeros({capacity_}, DType::i64);
  if (dtype_ == ReplayDType::u8) {
    const int64_t channels = row_shape.empty() ? 1 : row_shape[0];
    scale_ = Tensor::zeros({channels});
    offset_ = Tensor::zeros({channels});
  }
}

void LatentReplayMemory::write_row(int64_t slot, const float* v) {
  const int64_t row = numel_of(row_shape_);
  const int64_t base = slot * row;
  switch (dtype_) {
    case ReplayDType::f32:
      std::memcpy(activations_.data<float>() + base, v, static_cast<size_t>(row) * 4);
      break;
    case ReplayDType::f16: {
      auto* p = static_cast<uint16_t*>(activations_.raw_data()) + base;
      for (int64_t i = 0; i < row; ++i) p[i] = float_to_half(v[i]);
      break;
    }
    case ReplayDType::bf16: {
      auto* p = static_cast<uint16_t*>(activations_.raw_data()) + base;
      for (int64_t i = 0; i < row; ++i) p[i] = float_to_bfloat16(v[i]);
      break;
    }
    case ReplayDType::u8: {
      const int64_t channels = scale_.numel();
      const int64_t inner = row / channels;
      uint8_t* p = activations_.data<uint8_t>() + base;
      for (int64_t c = 0; c < channels; ++c) {
        const float s = scale_.data<float>()[c], o = offset_.data<float>()[c];
        for (int64_t i = 0; i < inner; ++i) {
          const float q = s > 0.f ? std::nearbyint((v[c * inner + i] - o) / s) : 0.f;
          p[c * inner + i] = static_cast<uint8_t>(std::clamp(q, 0.f, 255.f));
        }
      }
      break;
    }
  }
}

// Makes every channel's [offset, offset + 255 scale] cover the incoming rows' range,
// re-quantising stored rows of channels whose range grows.
void LatentReplayMemory::widen_u8_range(const Tensor& incoming) {
  const int64_t channels = scale_.numel();
  const int64_t row = numel_of(row_shape_);
  const int64_t inner = row / channels;
  const float* x = incoming.data<float>();
  float* scale = scale_.data<float>();
  float* offset = offset_.data<float>();
  uint8_t* q = activations_.data<uint8_t>();
  for (int64_t c = 0; c < channels; ++c) {
    const bool empty = size_ == 0;
    float lo = empty ? INFINITY : offset[c];
    float hi = empty ? -INFINITY : offset[c] + 255.f * scale[c];
    const float old_lo = lo, old_hi = hi;
    for (int64_t r = 0; r < incoming.size(0); ++r) {
      for (int64_t i = 0; i < inner; ++i) {
        const float v = x[r * row + c * inner + i];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    if (!empty && lo == old_lo && hi == old_hi) continue;
    const float new_scale = (hi - lo) / 255.f;
    for (int64_t r = 0; r < size_; ++r) {  // re-quantise what is stored
      uint8_t* p = q + r * row + c * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const float v = offset[c] + scale[c] * p[i];
        const float nq = new_scale > 0.f ? std::nearbyint((v - lo) / new_scale) : 0.f;
        p[i] = static_cast<uint8_t>(std::clamp(nq, 0.f, 255.f));
      }
    }
    scale[c] = new_scale;
    offset[c] = lo;
  }
}

void LatentReplayMemory::update(const Tensor& kept_activations, const Tensor& kept_labels,
                                int64_t experience, Generator& gen) {
  check_dtype(kept_activations, DType::f32, "replay", "kept activations");
  AR1_CHECK(kept_activations.dim() >= 2, "[replay] kept activations ",
            kept_activations.describe(), " need a batch dim and a channel dim");
  const std::vector<int64_t> chosen = select(kept_activations.size(0), experience, gen);
  if (chosen.empty()) return;
  check_dtype(kept_labels, DType::i64, "replay", "kept labels");
  std::vector<Tensor> rows;
  std::vector<int64_t> labels;
  const Tensor all_labels = kept_labels.contiguous();
  AR1_CHECK(all_labels.dim() == 1 && all_labels.size(0) == kept_activations.size(0),
            "[replay] activations ", kept_activations.describe(), " and labels ",
            kept_labels.describe(), " must pair up row by row");
  for (int64_t k : chosen) {
    rows.push_back(kept_activations.slice(k, k + 1));
    labels.push_back(all_labels.data<int64_t>()[k]);
  }
  store(Tensor::concat(rows),
        Tensor::from_i64(labels, {static_cast<int64_t>(labels.size())}), gen);
}

std::vector<int64_t> LatentReplayMemory::select(int64_t kept, int64_t experience,
                                                Generator& gen) const {
  AR1_CHECK(experience >= 0, "[replay] experience index must be >= 0, got ", experience);
  const int64_t h = std::min(capacity_ / (experience + 1), kept);
  if (h <= 0) return {};
  std::vector<int64_t> chosen = randperm(kept, gen);
  chosen.resize(static_cast<size_t>(h));
  return chosen;
}

void LatentReplayMemory::store(const Tensor& activations, const Tensor& labels,
                               Generator& gen) {
  check_defined(activations, "replay", "activations");
  store_at(activations, labels, slots_for(std::min(activations.size(0), capacity_), gen));
}

std::vector<int64_t> LatentReplayMemory::slots_for(int64_t count, Generator& gen) const {
  const int64_t h = std::min(count, capacity_);
  const int64_t appended = std::min(h, capacity_ - size_);
  std::vector<int64_t> slots;
  for (int64_t i = 0; i < appended; ++i) slots.push_back(size_ + i);
  if (h > appended) {
    std::vector<int64_t> replaced = randperm(size_, gen);
    slots.insert(slots.end(), replaced.begin(), replaced.begin() + (h - appended));
  }
  return slots;
}

void LatentReplayMemory::store_at(const Tensor& activations, const Tensor& labels_in,
                                  const std::vector<int64_t>& slots) {
  check_dtype(activations, DType::f32, "replay", "activations");
  check_dtype(labels_in, DType::i64, "replay", "labels");
  const auto h = static_cast<int64_t>(slots.size());
  AR1_CHECK(activations.dim() >= 2 && labels_in.dim() == 1 &&
                labels_in.size(0) == activations.size(0) && activations.size(0) >= h,
            "[replay] activations ", activations.describe(), " and labels ",
            labels_in.describe(), " must pair up row by row, one row per slot (", h, ")");
  const Shape row_shape(activations.shape().begin() + 1, activations.shape().end());
  if (!activations_.defined()) allocate(row_shape);
  AR1_CHECK(row_shape == row_shape_, "[replay] activations of shape ", shape_str(row_shape),
            " per row, but the memory holds ", shape_str(row_shape_),
            " (was the latent layer changed mid-run?)");
  if (h == 0) return;
  // Slots: distinct, existing rows or the next free ones in order.
  int64_t grown = size_;
  std::vector<bool> used(static_cast<size_t>(capacity_), false);
  for (int64_t slot : slots) {
    AR1_CHECK(slot >= 0 && slot < capacity_ && slot <= grown && !used[static_cast<size_t>(slot)],
              "[replay] slot ", slot, " is not a free or stored row of a memory of ", size_,
              " rows (capacity ", capacity_, ")");
    used[static_cast<size_t>(slot)] = true;
    if (slot == grown) ++grown;
  }
  const Tensor acts = nn::to_device(activations, Device::cpu()).contiguous();
  const Tensor labels = nn::to_device(labels_in, Device::cpu()).contiguous();
  before_host_write();
  if (dtype_ == ReplayDType::u8) widen_u8_range(acts.slice(0, h));
  const int64_t row = numel_of(row_shape_);
  for (int64_t i = 0; i < h; ++i) {
    const int64_t slot = slots[static_cast<size_t>(i)];
    write_row(slot, acts.data<float>() + i * row);
    labels_.data<int64_t>()[slot] = labels.data<int64_t>()[i];
  }
  size_ = grown;
  refresh_device_copy();
}

void LatentReplayMemory::before_host_write() {
  if (serve_device_.is_cuda() && !mirrored_ && activations_.defined()) {
    kernels::synchronize(serve_device_);
  }
}

void LatentReplayMemory::refresh_device_copy() {
  if (!mirrored_) return;
  device_activations_ = activations_.to(serve_device_);
  if (dtype_ == ReplayDType::u8) {
    device_scale_ = scale_.to(serve_device_);
    device_offset_ = offset_.to(serve_device_);
  }
}

std::pair<Tensor, Tensor> LatentReplayMemory::rows(int64_t begin, int64_t end) const {
  AR1_CHECK(0 <= begin && begin <= end && end <= size_, "[replay] rows [", begin, ", ", end,
            ") out of range for a memory of ", size_, " rows");
  Shape shape{end - begin};
  shape.insert(shape.end(), row_shape_.begin(), row_shape_.end());
  const Device dev = serve_device_;
  if (begin == end) {
    return {Tensor::zeros(shape, DType::f32, dev), Tensor::zeros({0}, DType::i64, dev)};
  }
  const Tensor labels = labels_.slice(begin, end).clone().to(dev);
  // The stored rows on the serving device: the mirror's, or copied from the host (by DMA
  // where it is page-locked).
  const Tensor stored = mirrored_ ? device_activations_.slice(begin, end)
                                  : activations_.slice(begin, end).to(dev);
  if (dtype_ != ReplayDType::u8) return {stored.to(DType::f32).contiguous(), labels};
  // u8: offset[c] + scale[c] q per channel, on the serving device (kernels/dequantize.h).
  const Tensor scale = mirrored_ ? device_scale_ : scale_.to(dev);
  const Tensor offset = mirrored_ ? device_offset_ : offset_.to(dev);
  const Tensor q = stored.contiguous();
  Tensor out = Tensor::empty(shape, DType::f32, dev);
  kernels::dequantize_rows(dev, static_cast<float*>(out.raw_data()),
                           static_cast<const uint8_t*>(q.raw_data()),
                           static_cast<const float*>(scale.raw_data()),
                           static_cast<const float*>(offset.raw_data()),
                           {end - begin, numel_of(row_shape_), scale.numel(), DType::u8});
  return {out, labels};
}

std::vector<int64_t> LatentReplayMemory::labels() const {
  if (size_ == 0) return {};
  return labels_.slice(0, size_).to_vector<int64_t>();
}

std::vector<std::pair<std::string, Tensor>> LatentReplayMemory::state() const {
  std::vector<std::pair<std::string, Tensor>> s;
  if (size_ == 0) return s;
  s.emplace_back("replay.activations", activations_.slice(0, size_));
  s.emplace_back("replay.labels", labels_.slice(0, size_));
  if (dtype_ == ReplayDType::u8) {
    s.emplace_back("replay.scale", scale_);
    s.emplace_back("replay.offset", offset_);
  }
  return s;
}

void LatentReplayMemory::load_state(const std::vector<std::pair<std::string, Tensor>>& state) {
  auto find = [&](const std::string& name) -> Tensor {
    for (const auto& [n, t] : state) {
      if (n == name) return t;
    }
    return {};
  };
  const Tensor acts = find("replay.activations");
  const Tensor labels = find("replay.labels");
  if (!acts.defined()) {
    size_ = 0;
    activations_ = labels_ = scale_ = offset_ = {};
    device_activations_ = device_scale_ = device_offset_ = {};
    return;
  }
  AR1_CHECK(labels.defined() && labels.dtype() == DType::i64 && labels.dim() == 1 &&
                labels.size(0) == acts.size(0) && acts.size(0) <= capacity_,
            "[replay] checkpoint memory is inconsistent: activations ", acts.describe(),
            ", labels ", labels.describe(), ", capacity ", capacity_);
  AR1_CHECK(acts.dtype() == storage_dtype(dtype_), "[replay] checkpoint memory is stored as ",
            dtype_name(acts.dtype()), " but replay_dtype is ", replay_dtype_name(dtype_));
  before_host_write();
  allocate(Shape(acts.shape().begin() + 1, acts.shape().end()));
  size_ = acts.size(0);
  const size_t bytes = static_cast<size_t>(acts.numel()) * dtype_size(acts.dtype());
  std::memcpy(activations_.raw_data(), acts.to(Device::cpu()).contiguous().raw_data(), bytes);
  std::memcpy(labels_.raw_data(), labels.to(Device::cpu()).contiguous().raw_data(),
              static_cast<size_t>(size_) * sizeof(int64_t));
  if (dtype_ == ReplayDType::u8) {
    const Tensor s = find("replay.scale"), o = find("replay.offset");
    AR1_CHECK(s.defined() && o.defined() && s.numel() == scale_.numel() &&
                  o.numel() == offset_.numel(),
              "[replay] checkpoint u8 memory lacks its scale/offset");
    scale_ = s.to(Device::cpu()).clone();
    offset_ = o.to(Device::cpu()).clone();
  }
  refresh_device_copy();
}

}  // namespace ar1::strategy
