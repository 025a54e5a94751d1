#include "strategy/checkpoint.h"

#include <bit>
#include <cstring>

#include "core/io/safetensors.h"
#include "nn/models/mobilenet_v1.h"

namespace ar1::strategy {

namespace {

constexpr const char* kFormat = "ar1-checkpoint-1";

// FNV-1a over names, dtypes, shapes and bytes of every tensor, in order.
std::string checksum(const NamedTensors& tensors) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  for (const auto& [name, t0] : tensors) {
    const Tensor t = t0.contiguous();
    mix(name.data(), name.size());
    const auto dt = static_cast<uint8_t>(t.dtype());
    mix(&dt, 1);
    for (int64_t d : t.shape()) mix(&d, sizeof d);
    mix(t.raw_data(), static_cast<size_t>(t.numel()) * dtype_size(t.dtype()));
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Doubles stored exactly, as their bit patterns.
Tensor doubles(const std::vector<double>& v) {
  std::vector<int64_t> bits;
  for (double d : v) bits.push_back(std::bit_cast<int64_t>(d));
  return Tensor::from_i64(bits, {static_cast<int64_t>(bits.size())});
}
std::vector<double> doubles_of(const Tensor& t) {
  std::vector<double> v;
  for (int64_t b : t.to_vector<int64_t>()) v.push_back(std::bit_cast<double>(b));
  return v;
}

void add_prefixed(NamedTensors& out, const std::string& prefix,
                  const std::vector<std::pair<std::string, Tensor>>& in) {
  for (const auto& [name, t] : in) out.emplace_back(prefix + name, t);
}

std::vector<std::pair<std::string, Tensor>> with_prefix(const SafetensorsFile& f,
                                                        const std::string& prefix) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : f.tensors()) {
    if (name.rfind(prefix, 0) == 0) out.emplace_back(name.substr(prefix.size()), t);
  }
  return out;
}

SafetensorsFile open_checked(const std::filesystem::path& path) {
  AR1_CHECK(std::filesystem::exists(path), "[checkpoint] ", path.string(),
            " does not exist; pass the checkpoint.safetensors of a run directory");
  SafetensorsFile f = [&] {
    try {
      return load_safetensors(path);
    } catch (const Error& e) {
      AR1_FAIL("[checkpoint] ", path.string(), " is not a readable checkpoint (truncated or "
               "corrupted?): ", e.what());
    }
  }();
  const auto& meta = f.metadata();
  const auto format = meta.find("format");
  AR1_CHECK(format != meta.end() && format->second == kFormat, "[checkpoint] ", path.string(),
            " is not an ar1 checkpoint (format '",
            format == meta.end() ? std::string("none") : format->second, "', expected ",
            kFormat, ")");
  const auto sum = meta.find("checksum");
  AR1_CHECK(sum != meta.end() && sum->second == checksum(f.tensors()), "[checkpoint] ",
            path.string(), " is corrupted: its checksum does not match its contents; resume "
            "from an earlier checkpoint or start again");
  return f;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, AR1& s, const CheckpointMetadata& meta) {
  NamedTensors t;
  add_prefixed(t, "model.", s.model().state_dict());
  for (auto& [name, bn] : nn::batch_renorm_layers(s.model())) {
    const auto& o = bn->options();
    t.emplace_back("bn_settings." + name, doubles({o.momentum, o.r_max, o.d_max, o.r_d_inc,
                                                    o.max_r_max, o.max_d_max}));
  }
  if (s.optimizer() != nullptr) add_prefixed(t, "optimizer.", s.optimizer()->state());
  add_prefixed(t, "", s.cwr_plugin().cwr().state());
  if (s.si_plugin() != nullptr) {
    s.si_plugin()->ensure(s);
    add_prefixed(t, "", s.si_plugin()->si()->state());
  }
  add_prefixed(t, "", s.replay_memory().state());
  const Generator::State rng = s.rng().state();
  t.emplace_back("rng", Tensor::from_i64(std::vector<int64_t>(rng.begin(), rng.end()), {6}));
  const Clock& c = s.clock();
  t.emplace_back("clock", Tensor::from_i64({c.train_exp_counter, c.train_iterations,
                                            c.total_iterations}, {3}));
  // A checkpoint is device-independent: GPU state is written from host copies, and a run
  // resumes on either device (load_state_dict and the plugins move it where it is used).
  for (auto& [name, tensor] : t) tensor = tensor.to(Device::cpu());
  SafetensorsMetadata m(meta.begin(), meta.end());
  m["format"] = kFormat;
  m["checksum"] = checksum(t);
  save_safetensors(path, t, m);
}

CheckpointMetadata load_checkpoint(const std::filesystem::path& path, AR1& s) {
  const SafetensorsFile f = open_checked(path);
  try {
    s.model().load_state_dict(with_prefix(f, "model."));
  } catch (const Error& e) {
    AR1_FAIL("[checkpoint] ", path.string(), " does not fit this model (was it written with "
             "other --alpha, --latent-layer-num or classes?): ", e.what());
  }
  for (auto& [name, bn] : nn::batch_renorm_layers(s.model())) {
    const std::vector<double> v = doubles_of(f.at("bn_settings." + name));
    AR1_CHECK(v.size() == 6, "[checkpoint] bn_settings.", name, " has ", v.size(), " values");
    bn->set_momentum(v[0]);
    bn->set_r_max(v[1]);
    bn->set_d_max(v[2]);
    bn->set_r_d_inc(v[3]);
    bn->set_max_r_max(v[4]);
    bn->set_max_d_max(v[5]);
  }
  s.cwr_plugin().cwr().load_state(f.tensors());
  if (s.si_plugin() != nullptr) {
    s.si_plugin()->ensure(s);
    s.si_plugin()->si()->load_state(f.tensors());
  }
  s.replay_memory().load_state(f.tensors());
  const std::vector<int64_t> rng = f.at("rng").to_vector<int64_t>();
  Generator::State state{};
  AR1_CHECK(rng.size() == state.size(), "[checkpoint] rng has ", rng.size(), " words");
  for (size_t i = 0; i < state.size(); ++i) state[i] = static_cast<uint64_t>(rng[i]);
  s.rng().set_state(state);
  const std::vector<int64_t> c = f.at("clock").to_vector<int64_t>();
  AR1_CHECK(c.size() == 3, "[checkpoint] clock has ", c.size(), " values");
  s.clock().train_exp_counter = c[0];
  s.clock().train_iterations = c[1];
  s.clock().total_iterations = c[2];
  // Optimiser momentum: AR1 builds a fresh optimiser per experience, so the saved buffers only
  // matter to strategies that keep one; they are restored when an optimiser exists.
  if (s.optimizer() != nullptr) s.optimizer()->load_state(with_prefix(f, "optimizer."));
  return CheckpointMetadata(f.metadata().begin(), f.metadata().end());
}

CheckpointMetadata read_checkpoint_metadata(const std::filesystem::path& path) {
  const SafetensorsFile f = open_checked(path);
  return CheckpointMetadata(f.metadata().begin(), f.metadata().end());
}

}  // namespace ar1::strategy
