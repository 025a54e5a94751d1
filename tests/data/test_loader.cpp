#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "data/core50.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "error_text.h"
#include "fixtures.h"

using namespace ar1::data;
using namespace ar1::data::testing;

namespace {
struct Epoch {
  std::vector<int64_t> indices;
  std::vector<int64_t> labels;
  std::vector<float> images;
  std::vector<int64_t> batch_sizes;
};

Epoch run_epoch(DataLoader& loader, int64_t epoch) {
  Epoch out;
  loader.start_epoch(epoch);
  Batch b;
  while (loader.next(b)) {
    out.indices.insert(out.indices.end(), b.indices.begin(), b.indices.end());
    const auto l = b.labels.to_vector<int64_t>();
    out.labels.insert(out.labels.end(), l.begin(), l.end());
    const auto v = b.images.to_vector<float>();
    out.images.insert(out.images.end(), v.begin(), v.end());
    out.batch_sizes.push_back(b.labels.numel());
  }
  return out;
}

Pipeline augmenting() {
  Pipeline p = standard_pipeline(6);
  p.then(pad(1)).then(random_crop(6, 6)).then(random_horizontal_flip());
  return p;
}

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}
}  // namespace

TEST_CASE("loader: seeded order, a permutation per epoch, batch shapes") {
  auto ds = labelled_dataset({7, 7, 7});  // 21 images
  LoaderOptions o;
  o.batch_size = 8;
  o.seed = 5;
  DataLoader loader(ds, standard_pipeline(6), o);
  CHECK(loader.num_batches() == 3);
  const Epoch e0 = run_epoch(loader, 0);
  CHECK(e0.batch_sizes == std::vector<int64_t>{8, 8, 5});
  CHECK(e0.indices == loader.epoch_order(0));
  std::vector<int64_t> sorted = e0.indices;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 21; ++i) CHECK(sorted[size_t(i)] == i);
  for (size_t i = 0; i < 21; ++i) CHECK(e0.labels[i] == ds->target(e0.indices[i]));
  CHECK(e0.images.size() == 21u * 3 * 6 * 6);
  CHECK(run_epoch(loader, 1).indices != e0.indices);  // reshuffled
  CHECK(run_epoch(loader, 0).indices == e0.indices);  // a function of (seed, epoch)
  DataLoader other(ds, standard_pipeline(6), {.batch_size = 8, .seed = 6});
  CHECK(run_epoch(other, 0).indices != e0.indices);
  o.drop_last = true;
  o.shuffle = false;
  DataLoader dropping(ds, standard_pipeline(6), o);
  const Epoch d = run_epoch(dropping, 0);
  CHECK(d.batch_sizes == std::vector<int64_t>{8, 8});
  CHECK(d.indices[3] == 3);
}

TEST_CASE("loader: bit-identical batches for any thread count, with cache") {
  auto ds = labelled_dataset({9, 8, 10, 6});
  Epoch reference;
  for (int workers : {0, 1, 3}) {
    for (bool cache : {false, true}) {
      LoaderOptions o;
      o.batch_size = 5;
      o.seed = 42;
      o.num_workers = workers;
      o.prefetch_batches = 2;
      o.cache = cache;
      DataLoader loader(ds, augmenting(), o);
      const Epoch e0 = run_epoch(loader, 0);
      const Epoch e1 = run_epoch(loader, 1);
      if (reference.indices.empty()) {
        reference = e0;
        CHECK_FALSE(bit_equal(e0.images, e1.images));
        continue;
      }
      CAPTURE(workers);
      CAPTURE(cache);
      CHECK(e0.indices == reference.indices);
      CHECK(e0.labels == reference.labels);
      CHECK(bit_equal(e0.images, reference.images));
    }
  }
}

TEST_CASE("loader: an abandoned epoch and a worker's error") {
  TempDir dir;
  put_png(dir / "a/0.png", pattern_image(8, 8, 3, 0));
  put_png(dir / "a/1.png", pattern_image(8, 8, 3, 1));
  write_bytes(dir / "b/bad.png", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3});
  const ImageFolder f = load_image_folder(dir.path());
  DataLoader loader(f.dataset, standard_pipeline(0), {.batch_size = 1, .shuffle = false,
                                                      .num_workers = 2});
  loader.start_epoch(0);
  Batch b;
  REQUIRE(loader.next(b));
  CHECK(b.images.shape() == ar1::Shape{1, 3, 8, 8});
  loader.start_epoch(1);  // abandons epoch 0 mid-way
  REQUIRE(loader.next(b));
  REQUIRE(loader.next(b));
  const std::string msg = error_of([&] { loader.next(b); });
  CHECK(has(msg, "bad.png"));
  CHECK_FALSE(loader.next(b));
  CHECK(has(error_of([&] {
              DataLoader l(f.dataset, standard_pipeline(0), {.num_workers = 0});
              l.next(b);
            }),
            "start_epoch"));
}

TEST_CASE("loader: mixed sizes need a resize") {
  TempDir dir;
  put_png(dir / "a/0.png", pattern_image(8, 8, 3, 0));
  put_png(dir / "a/1.png", pattern_image(9, 8, 3, 1));
  const ImageFolder f = load_image_folder(dir.path());
  DataLoader loader(f.dataset, standard_pipeline(0), {.batch_size = 2, .shuffle = false,
                                                      .num_workers = 0});
  loader.start_epoch(0);
  Batch b;
  CHECK(has(error_of([&] { loader.next(b); }), "add resize()"));
}

TEST_CASE("loader: CORe50 fixture experience into batches") {
  TempDir dir;
  write_mini_core50(dir.path());
  Core50Options o;
  o.n_batches = 3;
  const Benchmark bench = core50_benchmark(dir.path(), o);
  DataLoader loader(bench.train_stream[0].dataset, standard_pipeline(0),
                    {.batch_size = 3, .seed = 1, .num_workers = 2});
  const Epoch e = run_epoch(loader, 0);
  CHECK(e.batch_sizes == std::vector<int64_t>{3, 3, 2});
  CHECK(e.images.size() == 8u * 3 * 16 * 16);
  std::vector<int64_t> labels = e.labels;
  std::sort(labels.begin(), labels.end());
  CHECK(labels == std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3});
}

TEST_CASE("loader: float CHW images take the pipeline's path of the 8-bit images they equal") {
  // v / 255.f * 255.f == v for every v in 0..255 (IEEE f32), so float images made from 8-bit
  // ones give the same batches bit for bit, through Subset too.
  const int64_t n = 6, c = 3, h = 4, w = 5;
  std::vector<uint8_t> hwc(static_cast<size_t>(n * h * w * c));
  std::vector<float> chw(hwc.size());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        for (int64_t k = 0; k < c; ++k) {
          const auto v = static_cast<uint8_t>((i * 97 + y * 31 + x * 13 + k * 71) % 256);
          hwc[static_cast<size_t>(((i * h + y) * w + x) * c + k)] = v;
          chw[static_cast<size_t>(((i * c + k) * h + y) * w + x)] = v / 255.f;
        }
      }
    }
  }
  const std::vector<int64_t> targets{0, 1, 0, 1, 0, 1};
  auto bytes = std::make_shared<const InMemoryDataset>(hwc, h, w, c, targets, 2, "bytes");
  auto floats = std::make_shared<const FloatInMemoryDataset>(chw, c, h, w, targets, 2, "floats");
  CHECK(floats->image(3).pixels == bytes->image(3).pixels);
  CHECK(!bytes->float_image(3).has_value());
  REQUIRE(floats->float_image(1).has_value());
  CHECK(make_subset(floats, {4, 1})->float_image(1)->values == floats->float_image(1)->values);
  for (const Pipeline& p : {standard_pipeline(8), augmenting()}) {
    DataLoader a(bytes, p, {.batch_size = 4, .seed = 7, .num_workers = 0});
    DataLoader b(floats, p, {.batch_size = 4, .seed = 7, .num_workers = 2});
    const Epoch ea = run_epoch(a, 1), eb = run_epoch(b, 1);
    CHECK(ea.indices == eb.indices);
    CHECK(bit_equal(ea.images, eb.images));
  }
  CHECK(has(error_of([&] {
              std::vector<float> bad = chw;
              bad[17] = 1.5f;
              FloatInMemoryDataset d(bad, c, h, w, targets, 2, "made-up");
            }),
            "made-up: image 0 holds 1.5: float images take values in [0, 1]"));
  CHECK(has(error_of([&] { FloatInMemoryDataset d({0.f}, c, h, w, targets, 2, "short"); }),
            "short: expected 360 values"));
}
