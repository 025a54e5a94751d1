#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "data/nc_scenario.h"
#include "data/ni_scenario.h"
#include "data/nic_scenario.h"
#include "error_text.h"
#include "fixtures.h"

using namespace ar1::data;
using namespace ar1::data::testing;

namespace {
// Every training index appears in exactly one experience of the stream.
void check_partition(const std::vector<Experience>& stream, int64_t n) {
  std::vector<int> hits(size_t(n), 0);
  for (const auto& e : stream)
    for (int64_t i : e.dataset->indices()) ++hits[size_t(i)];
  CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
}
std::vector<std::vector<int64_t>> class_sets(const Benchmark& b) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& e : b.train_stream) out.push_back(e.classes_in_this_experience);
  return out;
}
}  // namespace

TEST_CASE("nc: even split, seeded class order, test stream follows") {
  auto train = labelled_dataset(std::vector<int64_t>(10, 6));
  auto test = labelled_dataset(std::vector<int64_t>(10, 2));
  NcOptions o;
  o.n_experiences = 5;
  o.seed = 3;
  const Benchmark b = nc_benchmark(train, test, o);
  REQUIRE(b.train_stream.size() == 5);
  REQUIRE(b.test_stream.size() == 5);
  check_partition(b.train_stream, train->size());
  check_partition(b.test_stream, test->size());
  std::vector<int64_t> sorted_order = b.class_order;
  std::sort(sorted_order.begin(), sorted_order.end());
  CHECK(sorted_order == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  for (size_t e = 0; e < 5; ++e) {
    std::vector<int64_t> want = {b.class_order[2 * e], b.class_order[2 * e + 1]};
    std::sort(want.begin(), want.end());
    CHECK(b.train_stream[e].classes_in_this_experience == want);
    CHECK(b.test_stream[e].classes_in_this_experience == want);
    CHECK(b.train_stream[e].size() == 12);
    CHECK(b.test_stream[e].size() == 4);
    CHECK(b.train_stream[e].index == int64_t(e));
  }
  // Same seed, same benchmark; another seed, another class order.
  CHECK(class_sets(nc_benchmark(train, test, o)) == class_sets(b));
  o.seed = 4;
  CHECK(nc_benchmark(train, test, o).class_order != b.class_order);
  o.shuffle_classes = false;
  CHECK(nc_benchmark(train, test, o).class_order == sorted_order);
}

TEST_CASE("nc: bigger first experience and fixed class order") {
  auto train = labelled_dataset(std::vector<int64_t>(10, 3));
  NcOptions o;
  o.n_experiences = 4;
  o.first_experience_classes = 4;
  o.fixed_class_order = std::vector<int64_t>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  const Benchmark b = nc_benchmark(train, train, o);
  REQUIRE(b.train_stream.size() == 4);
  CHECK(b.train_stream[0].classes_in_this_experience == std::vector<int64_t>{6, 7, 8, 9});
  CHECK(b.train_stream[1].classes_in_this_experience == std::vector<int64_t>{4, 5});
  CHECK(b.train_stream[3].classes_in_this_experience == std::vector<int64_t>{0, 1});
  o.first_experience_classes = 3;  // 7 left for 3 experiences
  CHECK(has(error_of([&] { nc_benchmark(train, train, o); }), "do not split evenly"));
  o.first_experience_classes = 0;
  o.n_experiences = 3;
  CHECK(has(error_of([&] { nc_benchmark(train, train, o); }), "10 classes do not split evenly"));
  o.n_experiences = 5;
  o.fixed_class_order = std::vector<int64_t>{0, 1, 2};
  CHECK(has(error_of([&] { nc_benchmark(train, train, o); }), "permutation"));
}

TEST_CASE("ni: equal parts over all classes, balanced option, one test experience") {
  auto train = labelled_dataset(std::vector<int64_t>(5, 20));  // 100 images
  auto test = labelled_dataset(std::vector<int64_t>(5, 4));
  NiOptions o;
  o.n_experiences = 3;
  o.seed = 7;
  const Benchmark b = ni_benchmark(train, test, o);
  REQUIRE(b.train_stream.size() == 3);
  CHECK(b.train_stream[0].size() == 34);
  CHECK(b.train_stream[2].size() == 33);
  check_partition(b.train_stream, train->size());
  REQUIRE(b.test_stream.size() == 1);
  CHECK(b.test_stream[0].size() == 20);
  CHECK(ni_benchmark(train, test, o).train_stream[1].dataset->indices() ==
        b.train_stream[1].dataset->indices());
  o.balance_experiences = true;
  o.n_experiences = 4;
  const Benchmark bal = ni_benchmark(train, test, o);
  check_partition(bal.train_stream, train->size());
  for (const auto& e : bal.train_stream) {
    CHECK(e.size() == 25);
    CHECK(e.classes_in_this_experience.size() == 5);
    for (int64_t c = 0; c < 5; ++c)
      CHECK(std::count(e.targets().begin(), e.targets().end(), c) == 5);
  }
}

TEST_CASE("nic: chunk allocation by largest remainder, at least one each") {
  // SPEC.md 3c with 2000 images per class: 4 classes keep 1000, 6 keep 2000; quotas 1.25 and
  // 2.5 -> floors 1 and 2 (16 chunks), the 4 left go to the largest remainders (the 0.5s,
  // earliest first).
  CHECK(allocate_chunks({1000, 1000, 1000, 1000, 2000, 2000, 2000, 2000, 2000, 2000}, 20) ==
        std::vector<int64_t>{1, 1, 1, 1, 3, 3, 3, 3, 2, 2});
  // A tiny class still gets one chunk; the extra one comes from the most over-served class.
  CHECK(allocate_chunks({1, 100, 100}, 4) == std::vector<int64_t>{1, 2, 1});
  CHECK(allocate_chunks({5, 0, 5}, 2) == std::vector<int64_t>{1, 0, 1});
  CHECK(has(error_of([] { allocate_chunks({5, 5, 5}, 2); }), "at least one chunk per class"));
  CHECK(has(error_of([] { allocate_chunks({1, 1}, 3); }), "one image per chunk"));
}

TEST_CASE("nic: SPEC 3c scenario on 10 classes") {
  auto train = labelled_dataset(std::vector<int64_t>(10, 40));
  auto test = labelled_dataset(std::vector<int64_t>(10, 5));
  NicOptions o;
  o.seed = 11;
  const Benchmark b = nic_benchmark(train, test, o);
  REQUIRE(b.train_stream.size() == 21);
  check_partition(b.train_stream, train->size());
  REQUIRE(b.test_stream.size() == 1);
  CHECK(b.test_stream[0].size() == 50);

  // Experience 0: the first 4 classes of the order, half of each.
  std::vector<int64_t> first(b.class_order.begin(), b.class_order.begin() + 4);
  std::sort(first.begin(), first.end());
  const Experience& e0 = b.train_stream[0];
  CHECK(e0.classes_in_this_experience == first);
  for (int64_t c : first) CHECK(std::count(e0.targets().begin(), e0.targets().end(), c) == 20);

  // The rest: single-class chunks; chunks per class follow allocate_chunks over the order.
  std::vector<int64_t> remaining;
  for (size_t k = 0; k < 10; ++k) remaining.push_back(k < 4 ? 20 : 40);
  const std::vector<int64_t> want = allocate_chunks(remaining, 20);
  std::vector<int64_t> chunks(10, 0);
  std::set<int64_t> seen(first.begin(), first.end());
  int64_t new_class_experiences = 0;
  for (size_t e = 1; e < 21; ++e) {
    const auto& cls = b.train_stream[e].classes_in_this_experience;
    REQUIRE(cls.size() == 1);
    const auto pos = std::find(b.class_order.begin(), b.class_order.end(), cls[0]) -
                     b.class_order.begin();
    ++chunks[size_t(pos)];
    if (seen.insert(cls[0]).second) ++new_class_experiences;
    const int64_t r = remaining[size_t(pos)], k = want[size_t(pos)];
    CHECK((b.train_stream[e].size() == r / k || b.train_stream[e].size() == r / k + 1));
  }
  CHECK(chunks == want);
  CHECK(new_class_experiences == 6);  // each of the other classes arrives once, on its own

  // Deterministic for a seed; another seed differs.
  const Benchmark again = nic_benchmark(train, test, o);
  for (size_t e = 0; e < 21; ++e)
    CHECK(again.train_stream[e].dataset->indices() == b.train_stream[e].dataset->indices());
  o.seed = 12;
  CHECK(class_sets(nic_benchmark(train, test, o)) != class_sets(b));
}

TEST_CASE("nic: parameters and their limits") {
  auto train = labelled_dataset({10, 10, 10});
  NicOptions o;
  o.first_classes = 1;
  o.first_fraction = 0.3;
  o.n_chunks = 4;
  const Benchmark b = nic_benchmark(train, train, o);
  REQUIRE(b.train_stream.size() == 5);
  CHECK(b.train_stream[0].size() == 3);
  check_partition(b.train_stream, train->size());
  o.n_chunks = 2;  // 3 classes with images left need 3 chunks
  CHECK(has(error_of([&] { nic_benchmark(train, train, o); }), "at least one chunk per class"));
  o.first_classes = 4;
  CHECK(has(error_of([&] { nic_benchmark(train, train, o); }), "first_classes must be in [1, 3]"));
}
