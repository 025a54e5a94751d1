#include "nn/modules/sequential.h"

#include <string>

namespace ar1::nn {

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& layers) {
  for (const auto& l : layers) push_back(l);
}

void Sequential::push_back(std::shared_ptr<Module> layer) {
  add_child(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& layer : layers_) h = layer->forward(h);
  return h;
}

const std::shared_ptr<Module>& Sequential::operator[](int64_t i) const {
  const int64_t n = size();
  const int64_t k = i < 0 ? i + n : i;
  AR1_CHECK(k >= 0 && k < n, "[Sequential] index ", i, " out of range for ", n, " layers");
  return layers_[static_cast<size_t>(k)];
}

std::shared_ptr<Sequential> Sequential::slice(int64_t begin, int64_t end) const {
  AR1_CHECK(0 <= begin && begin <= end && end <= size(), "[Sequential] slice [", begin, ", ",
            end, ") out of range for ", size(), " layers");
  auto out = std::make_shared<Sequential>(
      std::vector<std::shared_ptr<Module>>(layers_.begin() + begin, layers_.begin() + end));
  // Only the container's own flag: the shared layers keep their modes.
  out->set_own_training(is_training());
  return out;
}

std::pair<std::shared_ptr<Sequential>, std::shared_ptr<Sequential>> split_sequential(
    const Sequential& seq, int64_t index) {
  AR1_CHECK(0 <= index && index <= seq.size(), "[split_sequential] index ", index,
            " out of range for a Sequential of ", seq.size(), " layers (0..", seq.size(), ")");
  return {seq.slice(0, index), seq.slice(index, seq.size())};
}

}  // namespace ar1::nn
