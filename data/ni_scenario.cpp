#include "data/ni_scenario.h"

#include "core/error.h"
#include "core/rng.h"

namespace ar1::data {

namespace {
// Splits `items` into n consecutive parts; the first (size % n) parts get one more.
std::vector<std::vector<int64_t>> split_even(const std::vector<int64_t>& items, int64_t n) {
  std::vector<std::vector<int64_t>> parts(static_cast<size_t>(n));
  const auto total = static_cast<int64_t>(items.size());
  int64_t at = 0;
  for (int64_t p = 0; p < n; ++p) {
    const int64_t len = total / n + (p < total % n ? 1 : 0);
    parts[static_cast<size_t>(p)].assign(items.begin() + at, items.begin() + at + len);
    at += len;
  }
  return parts;
}

void shuffle_in_place(std::vector<int64_t>& v, Generator& gen) {
  const auto perm = randperm(static_cast<int64_t>(v.size()), gen);
  std::vector<int64_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[static_cast<size_t>(perm[i])];
  v.swap(out);
}
}  // namespace

Benchmark ni_benchmark(DatasetPtr train, DatasetPtr test, const NiOptions& o) {
  AR1_CHECK(train && test, "[ni_benchmark] expected a train and a test dataset, got null");
  const int64_t n = o.n_experiences;
  AR1_CHECK(n >= 1 && n <= train->size(), "[ni_benchmark] n_experiences must be in [1, ",
            train->size(), "] (one image at least per experience), got ", n);
  Generator gen(o.seed);
  std::vector<std::vector<int64_t>> parts(static_cast<size_t>(n));
  if (o.balance_experiences) {
    // Each class dealt separately; the part that gets a class's extra image rotates so that
    // experience sizes stay within one image of each other per class.
    int64_t offset = 0;
    for (auto& members : indices_by_class(*train)) {
      if (o.shuffle) shuffle_in_place(members, gen);
      const auto m = static_cast<int64_t>(members.size());
      for (int64_t i = 0; i < m; ++i)
        parts[static_cast<size_t>((i + offset) % n)].push_back(members[static_cast<size_t>(i)]);
      offset = (offset + m) % n;
    }
  } else {
    std::vector<int64_t> all(static_cast<size_t>(train->size()));
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
    if (o.shuffle) shuffle_in_place(all, gen);
    parts = split_even(all, n);
  }
  Benchmark b;
  b.num_classes = train->num_classes();
  for (int64_t e = 0; e < n; ++e)
    b.train_stream.push_back(make_experience(e, train, std::move(parts[static_cast<size_t>(e)])));
  std::vector<int64_t> all_test(static_cast<size_t>(test->size()));
  for (size_t i = 0; i < all_test.size(); ++i) all_test[i] = static_cast<int64_t>(i);
  b.test_stream.push_back(make_experience(0, test, std::move(all_test)));
  return b;
}

}  // namespace ar1::data
