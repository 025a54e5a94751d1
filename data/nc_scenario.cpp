#include "data/nc_scenario.h"

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"

namespace ar1::data {

namespace {

std::vector<int64_t> class_order_for(const std::vector<int64_t>& classes, const NcOptions& o) {
  if (o.fixed_class_order) {
    std::vector<int64_t> given = *o.fixed_class_order, sorted_given = given;
    std::sort(sorted_given.begin(), sorted_given.end());
    AR1_CHECK(sorted_given == classes, "[nc_benchmark] fixed_class_order must be a permutation "
              "of the ", classes.size(), " classes present in the training set, got ",
              given.size(), " entries that are not; list every class exactly once");
    return given;
  }
  if (!o.shuffle_classes) return classes;
  Generator gen(o.seed);
  const auto perm = randperm(static_cast<int64_t>(classes.size()), gen);
  std::vector<int64_t> order;
  for (int64_t p : perm) order.push_back(classes[static_cast<size_t>(p)]);
  return order;
}

}  // namespace

Benchmark nc_benchmark(DatasetPtr train, DatasetPtr test, const NcOptions& o) {
  AR1_CHECK(train && test, "[nc_benchmark] expected a train and a test dataset, got null");
  AR1_CHECK(train->num_classes() == test->num_classes(), "[nc_benchmark] train has ",
            train->num_classes(), " classes and test ", test->num_classes(),
            ", expected the same; load both splits of one dataset");
  const std::vector<int64_t> classes = classes_present(*train);
  const auto n_classes = static_cast<int64_t>(classes.size());
  const int64_t n = o.n_experiences;
  AR1_CHECK(n >= 1 && n <= n_classes, "[nc_benchmark] n_experiences must be in [1, ", n_classes,
            "] (one class at least per experience), got ", n);

  // Classes per experience.
  std::vector<int64_t> sizes;
  if (o.first_experience_classes == 0) {
    AR1_CHECK(n_classes % n == 0, "[nc_benchmark] ", n_classes, " classes do not split evenly "
              "into ", n, " experiences; pick a divisor or set first_experience_classes");
    sizes.assign(static_cast<size_t>(n), n_classes / n);
  } else {
    const int64_t first = o.first_experience_classes;
    const int64_t rest = n_classes - first;
    AR1_CHECK(first >= 1 && first <= n_classes - (n - 1), "[nc_benchmark] "
              "first_experience_classes must be in [1, ", n_classes - (n - 1), "] to leave a class "
              "for each of the other ", n - 1, " experiences, got ", first);
    AR1_CHECK(n == 1 ? rest == 0 : rest % (n - 1) == 0, "[nc_benchmark] the ", rest,
              " classes after the first experience do not split evenly into ", n - 1,
              " experiences; change n_experiences or first_experience_classes");
    sizes.push_back(first);
    for (int64_t i = 1; i < n; ++i) sizes.push_back(rest / (n - 1));
  }

  Benchmark b;
  b.num_classes = train->num_classes();
  b.class_order = class_order_for(classes, o);
  const auto train_by_class = indices_by_class(*train);
  const auto test_by_class = indices_by_class(*test);
  size_t next = 0;
  for (int64_t e = 0; e < n; ++e) {
    std::vector<int64_t> tr, te;
    for (int64_t k = 0; k < sizes[static_cast<size_t>(e)]; ++k, ++next) {
      const auto c = static_cast<size_t>(b.class_order[next]);
      tr.insert(tr.end(), train_by_class[c].begin(), train_by_class[c].end());
      te.insert(te.end(), test_by_class[c].begin(), test_by_class[c].end());
    }
    b.train_stream.push_back(make_experience(e, train, std::move(tr)));
    b.test_stream.push_back(make_experience(e, test, std::move(te)));
  }
  return b;
}

}  // namespace ar1::data
