#pragma once
// A least-recently-used cache from a plain-data key (compared and hashed byte for byte, so the
// key must be trivially copyable with no padding left uninitialised: value-initialise it) to a
// plan: cuDNN algorithm choices, like the oneDNN primitive cache on the CPU.
#include <cstddef>
#include <cstring>
#include <list>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace ar1::kernels::cuda {

template <class Key, class Plan>
class PlanCache {
  static_assert(std::is_trivially_copyable_v<Key>, "plan keys are compared byte for byte");

 public:
  explicit PlanCache(size_t capacity) : capacity_(capacity) {}

  // The plan for `key`, made by make() on a miss; the least recently used plan is dropped when
  // the cache is full.
  template <class Make>
  Plan& get(const Key& key, Make make) {
    const std::string_view bytes = view(key);
    if (auto it = index_.find(bytes); it != index_.end()) {
      entries_.splice(entries_.begin(), entries_, it->second);
      return it->second->second;
    }
    entries_.emplace_front(key, make());
    index_.emplace(view(entries_.front().first), entries_.begin());
    if (entries_.size() > capacity_) {
      index_.erase(view(entries_.back().first));
      entries_.pop_back();
    }
    return entries_.front().second;
  }

  size_t size() const { return entries_.size(); }

 private:
  static std::string_view view(const Key& k) {
    return {reinterpret_cast<const char*>(&k), sizeof(Key)};
  }
  size_t capacity_;
  std::list<std::pair<Key, Plan>> entries_;  // most recent first
  std::unordered_map<std::string_view, typename std::list<std::pair<Key, Plan>>::iterator> index_;
};

}  // namespace ar1::kernels::cuda
