#include "kernels/cpu/onednn/onednn_context.h"

namespace ar1::kernels::cpu {

OneDnnContext::OneDnnContext() : engine_(dnnl::engine::kind::cpu, 0) {}

OneDnnContext& OneDnnContext::instance() {
  // Function-local static: built on first use, thread-safe initialisation (C++11).
  static OneDnnContext context;
  return context;
}

std::shared_ptr<ConvEntry> OneDnnContext::conv(const ConvKey& key, ConvBuilder build) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++clock_;
  auto it = conv_cache_.find(key);
  if (it != conv_cache_.end()) {
    it->second.last_used = clock_;
    return it->second.entry;
  }
  // Built under the map lock: a first call per shape is rare, and this keeps two threads from
  // building the same primitive twice. A builder that throws leaves nothing in the cache.
  auto entry = std::make_shared<ConvEntry>();
  entry->stream = dnnl::stream(engine_);
  build(*entry, key.desc, engine_);
  if (conv_cache_.size() >= kMaxEntries) {
    auto oldest = conv_cache_.begin();
    for (auto i = conv_cache_.begin(); i != conv_cache_.end(); ++i) {
      if (i->second.last_used < oldest->second.last_used) oldest = i;
    }
    conv_cache_.erase(oldest);  // a caller still running it keeps it alive
  }
  conv_cache_.emplace(key, Cached{entry, clock_});
  return entry;
}

size_t OneDnnContext::cache_size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return conv_cache_.size();
}

}  // namespace ar1::kernels::cpu
