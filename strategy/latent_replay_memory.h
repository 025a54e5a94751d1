#pragma once
// AR1's replay memory: latent activations (the output of lat_features) stored with their own
// labels, at most `capacity` (rm_sz) rows, in a storage dtype of choice (SPEC.md 3 and 3b).
//
// After experience e, update() draws h = min(capacity // (e + 1), kept) of that experience's
// kept (activation, label) pairs without replacement. While the memory has free rows they are
// appended; once it is full they overwrite h distinct random rows (SPEC.md's rule, which
// assumes the first experience filled the memory; appending first keeps a small first
// experience from capping the memory forever).
//
// Storage: f32, f16 and bf16 convert per element. u8 quantises per channel (dim 1) with a
// scale and offset per channel shared by all rows: x ~ offset + scale * q. When new rows widen
// a channel's range, the stored rows of that channel are re-quantised to the new range.
//
// Serving (serve_on): rows() hands rows out on the training device. On a GPU the memory lives
// either on the device (a mirror of the host copy, refreshed when rows are stored) or in
// page-locked host memory that each rows() call copies from by DMA; `automatic` picks the
// device when the full capacity fits in a share of the device's free memory. The host copy is
// the one written, checkpointed and counted; it is always there.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace ar1::strategy {

enum class ReplayDType { f32, f16, bf16, u8 };
ReplayDType parse_replay_dtype(const std::string& name);  // "f32", "f16", "bf16", "u8"
std::string replay_dtype_name(ReplayDType t);

enum class ReplayPlacement { automatic, device, host };
ReplayPlacement parse_replay_placement(const std::string& name);  // "auto", "device", "host"
std::string replay_placement_name(ReplayPlacement p);
// The automatic rule: `bytes` go on the device when they take at most `share` of `free_bytes`.
bool replay_fits_on_device(size_t bytes, size_t free_bytes, double share);

class LatentReplayMemory {
 public:
  LatentReplayMemory(int64_t capacity, ReplayDType dtype);

  int64_t capacity() const { return capacity_; }
  int64_t size() const { return size_; }
  ReplayDType dtype() const { return dtype_; }
  // Bytes held by activations, labels and quantisation parameters (the host copy).
  size_t bytes() const;

  // Where rows() returns its rows (see above); call before the first store. A CPU device
  // ignores the placement.
  void serve_on(Device device, ReplayPlacement placement, double device_share);
  Device serving_device() const { return serve_device_; }
  // Once the memory holds rows: "cpu", "device" (mirrored on the GPU) or "host" (page-locked).
  std::string placement() const;

  // kept_activations [K, C, ...] f32 and kept_labels [K] i64 of experience `experience`:
  // store(select(K) rows).
  void update(const Tensor& kept_activations, const Tensor& kept_labels, int64_t experience,
              Generator& gen);
  // Which of `kept` candidates enter after experience `experience`: h = min(capacity //
  // (experience + 1), kept) distinct positions, drawn without replacement, in draw order.
  // Lets a caller keep only those activations instead of all of them.
  std::vector<int64_t> select(int64_t kept, int64_t experience, Generator& gen) const;
  // Stores rows already selected: appended while there is room, then over distinct random
  // rows (store_at(rows, slots_for(rows, gen))).
  void store(const Tensor& activations, const Tensor& labels, Generator& gen);
  // The memory rows `count` new rows go to: the free rows first, then distinct random ones.
  std::vector<int64_t> slots_for(int64_t count, Generator& gen) const;
  // Writes row i of activations/labels to memory row slots[i] (a slot == size() appends).
  void store_at(const Tensor& activations, const Tensor& labels,
                const std::vector<int64_t>& slots);

  // Rows [begin, end) as f32 activations and i64 labels, on the serving device.
  std::pair<Tensor, Tensor> rows(int64_t begin, int64_t end) const;
  // Every stored label, in row order.
  std::vector<int64_t> labels() const;

  // Everything needed to restore the memory (checkpoints): names -> tensors.
  std::vector<std::pair<std::string, Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, Tensor>>& state);

 private:
  void allocate(const Shape& row_shape);
  // Host rows are about to change: copies from page-locked memory may still be queued.
  void before_host_write();
  // The device mirror after the host copy changed.
  void refresh_device_copy();
  void write_row(int64_t slot, const float* values);
  void widen_u8_range(const Tensor& incoming);

  int64_t capacity_;
  ReplayDType dtype_;
  int64_t size_ = 0;
  Shape row_shape_;      // activation shape without the batch dim
  Tensor activations_;   // [capacity, row_shape...] in the storage dtype
  Tensor labels_;        // [capacity] i64
  Tensor scale_, offset_;  // u8 only: [channels] f32

  Device serve_device_ = Device::cpu();
  ReplayPlacement placement_ = ReplayPlacement::automatic;
  double device_share_ = 0.25;
  bool mirrored_ = false;  // decided at allocation: a device mirror, else page-locked host
  Tensor device_activations_, device_scale_, device_offset_;
};

}  // namespace ar1::strategy
