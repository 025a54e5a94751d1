#include "data/nic_scenario.h"

#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace ar1::data {

std::vector<int64_t> allocate_chunks(const std::vector<int64_t>& remaining, int64_t n_chunks) {
  const int64_t total = std::accumulate(remaining.begin(), remaining.end(), int64_t{0});
  int64_t nonempty = 0;
  for (int64_t r : remaining) nonempty += r > 0 ? 1 : 0;
  AR1_CHECK(nonempty <= n_chunks && n_chunks <= total, "[nic_benchmark] cannot cut ", total,
            " remaining images of ", nonempty, " classes into ", n_chunks, " single-class "
            "chunks: expected at least one chunk per class and one image per chunk; change "
            "n_chunks or first_classes");
  const size_t k = remaining.size();
  std::vector<double> quota(k);
  std::vector<int64_t> chunks(k, 0);
  int64_t given = 0;
  for (size_t c = 0; c < k; ++c) {
    if (remaining[c] == 0) continue;
    quota[c] = static_cast<double>(n_chunks) * static_cast<double>(remaining[c]) /
               static_cast<double>(total);
    chunks[c] = std::max<int64_t>(1, static_cast<int64_t>(std::floor(quota[c])));
    given += chunks[c];
  }
  // Hamilton's method: the chunks still to give go to the largest remainders quota - chunks.
  // Where the "at least one" floor gave out too many, take them back from the classes most
  // over their quota (only possible for classes holding more than one chunk).
  while (given != n_chunks) {
    size_t best = k;
    for (size_t c = 0; c < k; ++c) {
      if (remaining[c] == 0) continue;
      if (given < n_chunks && chunks[c] >= remaining[c]) continue;
      if (given > n_chunks && chunks[c] <= 1) continue;
      const double gap = quota[c] - static_cast<double>(chunks[c]);
      const double best_gap = best == k ? 0 : quota[best] - static_cast<double>(chunks[best]);
      if (best == k || (given < n_chunks ? gap > best_gap : gap < best_gap)) best = c;
    }
    AR1_CHECK(best != k, "[nic_benchmark] internal: no class can take or give a chunk");
    const int64_t step = given < n_chunks ? 1 : -1;
    chunks[best] += step;
    given += step;
  }
  return chunks;
}

Benchmark nic_benchmark(DatasetPtr train, DatasetPtr test, const NicOptions& o) {
  AR1_CHECK(train && test, "[nic_benchmark] expected a train and a test dataset, got null");
  const std::vector<int64_t> classes = classes_present(*train);
  const auto n_classes = static_cast<int64_t>(classes.size());
  AR1_CHECK(o.first_classes >= 1 && o.first_classes <= n_classes, "[nic_benchmark] "
            "first_classes must be in [1, ", n_classes, "] (classes in the training set), got ",
            o.first_classes);
  AR1_CHECK(o.first_fraction > 0.0 && o.first_fraction <= 1.0, "[nic_benchmark] first_fraction "
            "must be in (0, 1], got ", o.first_fraction);
  AR1_CHECK(o.n_chunks >= 1, "[nic_benchmark] n_chunks must be positive, got ", o.n_chunks);

  Generator gen(o.seed);
  Benchmark b;
  b.num_classes = train->num_classes();
  for (int64_t p : randperm(n_classes, gen)) b.class_order.push_back(classes[size_t(p)]);

  // 2. the first experience, and what every class has left (in class order).
  const auto by_class = indices_by_class(*train);
  std::vector<int64_t> first;
  std::vector<std::vector<int64_t>> left(static_cast<size_t>(n_classes));
  for (int64_t k = 0; k < n_classes; ++k) {
    const auto& members = by_class[static_cast<size_t>(b.class_order[size_t(k)])];
    std::vector<int64_t> shuffled;
    for (int64_t p : randperm(static_cast<int64_t>(members.size()), gen))
      shuffled.push_back(members[static_cast<size_t>(p)]);
    int64_t take = 0;
    if (k < o.first_classes) {
      take = static_cast<int64_t>(std::floor(static_cast<double>(shuffled.size()) * o.first_fraction));
      AR1_CHECK(take > 0, "[nic_benchmark] class ", b.class_order[size_t(k)], " has ",
                shuffled.size(), " images: a first_fraction of ", o.first_fraction,
                " leaves none for the first experience; raise first_fraction");
    }
    first.insert(first.end(), shuffled.begin(), shuffled.begin() + take);
    left[static_cast<size_t>(k)].assign(shuffled.begin() + take, shuffled.end());
  }
  b.train_stream.push_back(make_experience(0, train, std::move(first)));

  // 3. single-class chunks.
  std::vector<int64_t> remaining;
  for (const auto& l : left) remaining.push_back(static_cast<int64_t>(l.size()));
  const std::vector<int64_t> per_class = allocate_chunks(remaining, o.n_chunks);
  std::vector<std::vector<int64_t>> chunks;
  for (size_t k = 0; k < left.size(); ++k) {
    const int64_t r = remaining[k], n = per_class[k];
    int64_t at = 0;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t len = r / n + (j < r % n ? 1 : 0);
      chunks.emplace_back(left[k].begin() + at, left[k].begin() + at + len);
      at += len;
    }
  }
  // 4. random order.
  const auto order = randperm(static_cast<int64_t>(chunks.size()), gen);
  for (size_t e = 0; e < order.size(); ++e) {
    b.train_stream.push_back(make_experience(static_cast<int64_t>(e) + 1, train,
                                             std::move(chunks[static_cast<size_t>(order[e])])));
  }
  std::vector<int64_t> all_test(static_cast<size_t>(test->size()));
  std::iota(all_test.begin(), all_test.end(), int64_t{0});
  b.test_stream.push_back(make_experience(0, test, std::move(all_test)));
  return b;
}

}  // namespace ar1::data
