#pragma once
// The CPU backend context: one oneDNN cpu engine and a cache of convolution
// primitives keyed by a POD ConvKey, so a primitive (with its reorders and scratch memory) is
// built once per shape and reused by every later call of that shape.
//
// To cache another op: add a value to CpuOp for it, and either reuse ConvEntry's shape (a list
// of steps over a few user memories) or add an entry struct, a key and a map beside conv_cache_
// with a lookup like conv(); the builder lives next to the op's kernel, as in conv2d.cpp.
//
// Thread safety: the map is guarded by a mutex; each entry has its own mutex that a caller holds
// while it executes the entry (the entry's scratch buffers and cached user-memory handles are
// shared state). Different shapes may run concurrently.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/conv2d.h"

namespace ar1::kernels::cpu {

enum class CpuOp : uint8_t { conv_forward, conv_backward_data, conv_backward_weights };

// The cache key. `threads` is part of it because a oneDNN primitive descriptor records the
// OpenMP thread count at creation and keeps using it: after set_num_threads(k) a shape gets
// a fresh primitive built for k threads instead of silently running with the old count.
// `lane` is the OpenMP thread that runs the entry when a call is cut into single-threaded
// blocks (fixed_blocks.h): blocks of one shape run concurrently, each on an entry of its own.
struct ConvKey {
  CpuOp op = CpuOp::conv_forward;
  int threads = 0;
  int lane = 0;
  ConvDesc desc;
  friend bool operator==(const ConvKey&, const ConvKey&) = default;
};

struct ConvKeyHash {
  size_t operator()(const ConvKey& k) const {
    size_t h = ConvDescHash{}(k.desc);
    h = h * 1000003u ^ static_cast<size_t>(k.op);
    h = h * 1000003u ^ static_cast<size_t>(k.threads);
    h = h * 1000003u ^ static_cast<size_t>(k.lane);
    return h;
  }
};

// One step of a cached call: a primitive and its arguments. The memory objects in `args` are
// handles whose data pointers are swapped per call, so the map is built once.
struct ConvStep {
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
};

// Everything one cached convolution call needs; filled once by the builder in conv2d.cpp.
// The two inputs and the output per op:
//   forward:          in0 = x,  in1 = w,  out = y
//   backward data:    in0 = dy, in1 = w,  out = dx
//   backward weights: in0 = dy, in1 = x,  out = dw
struct ConvEntry {
  std::mutex mutex;  // held while executing: the buffers below are shared per entry
  // A stream of its own: entries of different lanes execute at the same time, and a oneDNN
  // stream is not meant to be shared by concurrent callers.
  dnnl::stream stream;
  // Plain (NCHW / OIHW / goihw) memories with no buffer of their own: each call points them
  // at the caller's buffers with set_data_handle.
  dnnl::memory user_in0, user_in1, user_out;
  dnnl::memory user_bias;  // forward with ConvDesc::bias only
  // Reorders into the primitive's layout (only for arguments whose layout differs), the
  // convolution (with its user-mode scratchpad), then the reorder out if needed.
  std::vector<ConvStep> steps;
  // The blocked buffers and the scratchpad, without memory of their own: each call borrows it
  // from the CPU allocator and gives it back, so it is shared with the activations (owned per
  // entry, 81 entries of a MobileNetV1 step held hundreds of MiB between calls).
  std::vector<dnnl::memory> transient;
};

class OneDnnContext {
 public:
  // The process-wide CPU backend context (created on first use).
  static OneDnnContext& instance();

  const dnnl::engine& engine() const { return engine_; }

  // The entry for `key`, built by `build(entry, key.desc, engine)` on the first call for that
  // key. A plain function pointer, not std::function: a lookup must not allocate. The caller
  // holds the returned pointer while it executes the entry: entries beyond kMaxEntries are
  // evicted least recently used first (AR1's batch sizes change with every experience, and an
  // unbounded cache of their blocked buffers grew a NIC run by ~25 MB per experience).
  using ConvBuilder = void (*)(ConvEntry&, const ConvDesc&, const dnnl::engine&);
  std::shared_ptr<ConvEntry> conv(const ConvKey& key, ConvBuilder build);
  // Room for MobileNetV1's 27 layers x 3 ops x (a full and a last block) on a few lanes.
  static constexpr size_t kMaxEntries = 512;

  // Number of cached entries (all ops), for tests.
  size_t cache_size() const;

 private:
  OneDnnContext();

  dnnl::engine engine_;
  mutable std::mutex mutex_;
  struct Cached {
    std::shared_ptr<ConvEntry> entry;
    uint64_t last_used = 0;
  };
  std::unordered_map<ConvKey, Cached, ConvKeyHash> conv_cache_;
  uint64_t clock_ = 0;
};

}  // namespace ar1::kernels::cpu
