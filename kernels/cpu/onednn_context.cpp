#include "kernels/cpu/onednn_context.h"

namespace ar1::kernels::cpu {

OneDnnContext::OneDnnContext() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

OneDnnContext& OneDnnContext::instance() {
  // Function-local static: built on first use, thread-safe initialisation (C++11).
  static OneDnnContext context;
  return context;
}

ConvEntry& OneDnnContext::conv(const ConvKey& key, ConvBuilder build) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = conv_cache_.find(key);
  if (it != conv_cache_.end()) return *it->second;
  // Built under the map lock: a first call per shape is rare, and this keeps two threads from
  // building the same primitive twice. A builder that throws leaves nothing in the cache.
  auto entry = std::make_unique<ConvEntry>();
  build(*entry, key.desc, engine_);
  ConvEntry& ref = *entry;
  conv_cache_.emplace(key, std::move(entry));
  return ref;
}

size_t OneDnnContext::cache_size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return conv_cache_.size();
}

}  // namespace ar1::kernels::cpu
