#include <doctest/doctest.h>

#include "data/dataset.h"
#include "error_text.h"
#include "fixtures.h"

using namespace ar1::data;
using namespace ar1::data::testing;

TEST_CASE("dataset: subsets, subsets of subsets, per-class views") {
  auto ds = labelled_dataset({3, 3, 3});  // targets 0 1 2 0 1 2 0 1 2
  CHECK(ds->targets() == std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2});
  auto sub = make_subset(ds, {8, 4, 0});
  CHECK(sub->targets() == std::vector<int64_t>{2, 1, 0});
  CHECK(sub->num_classes() == 3);
  CHECK(sub->image(1).pixels == ds->image(4).pixels);
  auto subsub = make_subset(sub, {2, 0});
  CHECK(subsub->parent().get() == ds.get());  // flattened onto the root
  CHECK(subsub->indices() == std::vector<int64_t>{0, 8});
  CHECK(subsub->source(1) == "synthetic #8");

  auto by_class = indices_by_class(*ds);
  CHECK(by_class[1] == std::vector<int64_t>{1, 4, 7});
  auto two = take_per_class(ds, 2);
  CHECK(two->indices() == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(classes_present(*make_subset(ds, {1, 7})) == std::vector<int64_t>{1});
}

TEST_CASE("dataset: bad indices and labels are rejected") {
  auto ds = labelled_dataset({2, 2});
  CHECK(has(error_of([&] { make_subset(ds, {0, 4}); }), "subset index 4 out of range"));
  CHECK(has(error_of([&] { ds->image(-1); }), "index -1 out of range"));
  CHECK(has(error_of([] {
              InMemoryDataset bad(std::vector<uint8_t>(2), 1, 1, 1, {0, 3}, 3, "made-up");
            }),
            "made-up: item 1 has label 3"));
  CHECK(has(error_of([] { InMemoryDataset bad(std::vector<uint8_t>(3), 1, 1, 1, {0, 1}, 2, "x"); }),
            "pixel bytes"));
}
