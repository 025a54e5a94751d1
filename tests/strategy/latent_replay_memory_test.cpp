#include <doctest/doctest.h>

#include <cmath>

#include "strategy/latent_replay_memory.h"

using namespace ar1;
using namespace ar1::strategy;

namespace {
// k activations [k, 2, 2, 2] whose every value encodes the row's own label; labels 0..k-1
// offset by `base`.
std::pair<Tensor, Tensor> labelled_latents(int64_t k, int64_t base) {
  Tensor acts = Tensor::empty({k, 2, 2, 2});
  Tensor labels = Tensor::empty({k}, DType::i64);
  for (int64_t i = 0; i < k; ++i) {
    labels.data<int64_t>()[i] = base + i;
    for (int64_t j = 0; j < 8; ++j) acts.data<float>()[i * 8 + j] = float(base + i) + 0.125f * j;
  }
  return {acts, labels};
}

// Every stored row still carries its own label: a mispairing shows as a mismatch.
void check_paired(const LatentReplayMemory& m, double tolerance) {
  auto [acts, labels] = m.rows(0, m.size());
  for (int64_t r = 0; r < m.size(); ++r) {
    const float label = float(labels.data<int64_t>()[r]);
    for (int64_t j = 0; j < 8; ++j) {
      CHECK(std::abs(acts.data<float>()[r * 8 + j] - (label + 0.125f * j)) <= tolerance);
    }
  }
}
}  // namespace

TEST_CASE("replay memory sizes: rm_sz // (e + 1) added per experience, never above rm_sz") {
  LatentReplayMemory m(12, ReplayDType::f32);
  Generator gen(0);
  auto [a0, l0] = labelled_latents(30, 0);
  m.update(a0, l0, 0, gen);
  CHECK(m.size() == 12);  // h = min(12, 30)
  auto [a1, l1] = labelled_latents(30, 100);
  m.update(a1, l1, 1, gen);
  CHECK(m.size() == 12);
  int64_t from_e1 = 0;
  for (int64_t l : m.labels()) from_e1 += l >= 100;
  CHECK(from_e1 == 6);  // h = 12 // 2 rows overwritten, distinct
  auto [a2, l2] = labelled_latents(2, 200);
  m.update(a2, l2, 2, gen);  // h = min(12 // 3, 2) = 2
  int64_t from_e2 = 0;
  for (int64_t l : m.labels()) from_e2 += l >= 200;
  CHECK(from_e2 == 2);
  CHECK(m.size() == 12);
  check_paired(m, 0.0);
}

TEST_CASE("replay memory keeps labels paired with their own activations") {
  // Latents that encode their own label: any shuffle of activations against labels (the
  // Avalanche bug) would break the pairing.
  for (ReplayDType t : {ReplayDType::f32, ReplayDType::f16, ReplayDType::bf16}) {
    LatentReplayMemory m(20, t);
    Generator gen(1);
    for (int64_t e = 0; e < 4; ++e) {
      auto [a, l] = labelled_latents(15, 16 * e);
      m.update(a, l, e, gen);
    }
    // f16 keeps 11 bits (values < 64: error <= 2^-5 / 2); bf16 8 bits (<= 2^-2 / 2 * 2).
    check_paired(m, t == ReplayDType::f32 ? 0.0 : t == ReplayDType::f16 ? 0.02 : 0.25);
  }
}

TEST_CASE("replay memory: a small first experience is appended to, then rows are replaced") {
  LatentReplayMemory m(10, ReplayDType::f32);
  Generator gen(2);
  auto [a0, l0] = labelled_latents(4, 0);
  m.update(a0, l0, 0, gen);
  CHECK(m.size() == 4);
  auto [a1, l1] = labelled_latents(20, 50);
  m.update(a1, l1, 1, gen);  // h = min(10 // 2, 20) = 5 -> appended
  CHECK(m.size() == 9);
  auto [a2, l2] = labelled_latents(20, 80);
  m.update(a2, l2, 2, gen);  // h = 3: one appended, two replace
  CHECK(m.size() == 10);
  check_paired(m, 0.0);
}

TEST_CASE("replay memory u8 storage is 4x smaller and re-quantises when the range grows") {
  LatentReplayMemory f32(50, ReplayDType::f32), u8(50, ReplayDType::u8);
  Generator g1(3), g2(3);
  for (int64_t e = 0; e < 3; ++e) {
    auto [a, l] = labelled_latents(40, 40 * e);  // the range grows every experience
    f32.update(a, l, e, g1);
    u8.update(a, l, e, g2);
  }
  CHECK(f32.labels() == u8.labels());  // same draws for the same seed
  // Range per channel spans ~0..120: one u8 step is ~0.47, worst error half of that.
  check_paired(u8, 0.5);
  // 8 values x 50 rows x 4 bytes vs 1 byte (+ 2 channels of scale and offset).
  CHECK(f32.bytes() - 50 * 8 == 50 * 8 * 4);
  CHECK(u8.bytes() - 50 * 8 == 50 * 8 + 2 * 2 * 4);
}

TEST_CASE("replay memory state round trip and bad input") {
  LatentReplayMemory m(8, ReplayDType::u8);
  Generator gen(4);
  auto [a, l] = labelled_latents(8, 0);
  m.update(a, l, 0, gen);
  LatentReplayMemory restored(8, ReplayDType::u8);
  restored.load_state(m.state());
  CHECK(restored.labels() == m.labels());
  auto [x1, y1] = m.rows(0, 8);
  auto [x2, y2] = restored.rows(0, 8);
  CHECK(x1.to_vector<float>() == x2.to_vector<float>());
  CHECK_THROWS_AS(m.update(Tensor::zeros({3, 2, 2, 2}), Tensor::zeros({2}, DType::i64), 1, gen),
                  Error);
  CHECK_THROWS_AS(m.update(Tensor::zeros({3, 4}), Tensor::zeros({3}, DType::i64), 1, gen), Error);
  CHECK_THROWS_AS(m.rows(0, 9), Error);
  CHECK_THROWS_AS(parse_replay_dtype("f64"), Error);
}
