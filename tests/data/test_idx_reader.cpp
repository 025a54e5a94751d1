#include <doctest/doctest.h>

#include "data/idx_reader.h"
#include "error_text.h"
#include "fixtures.h"
#include "tests/support/fashion_mnist.h"

using namespace ar1::data;
using namespace ar1::data::testing;

namespace {
std::vector<uint8_t> labels_of(int64_t n) {
  std::vector<uint8_t> l;
  for (int64_t i = 0; i < n; ++i) l.push_back(static_cast<uint8_t>((i * 3) % 10));
  return l;
}
}  // namespace

TEST_CASE("idx: plain and gzip files read the same contents") {
  TempDir dir;
  write_bytes(dir / "img", idx_images(6, 4, 5));
  write_bytes(dir / "lab", idx_labels(labels_of(6)));
  write_gz(dir / "img.gz", idx_images(6, 4, 5));
  write_gz(dir / "lab.gz", idx_labels(labels_of(6)));
  for (auto [img, lab] : {std::pair{"img", "lab"}, std::pair{"img.gz", "lab.gz"}}) {
    auto ds = load_idx_dataset(dir / img, dir / lab);
    REQUIRE(ds->size() == 6);
    CHECK(ds->num_classes() == 10);
    CHECK(ds->height() == 4);
    CHECK(ds->width() == 5);
    CHECK(ds->channels() == 1);
    for (int64_t i = 0; i < 6; ++i) {
      CHECK(ds->target(i) == (i * 3) % 10);
      const Image im = ds->image(i);
      CHECK(im.pixels[size_t(2 * 5 + 3)] == idx_pixel(i, 2, 3));
      CHECK(im.pixels.back() == idx_pixel(i, 3, 4));
    }
  }
}

TEST_CASE("idx: mnist folder finds .gz or plain names") {
  TempDir dir;
  write_gz(dir / "train-images-idx3-ubyte.gz", idx_images(3, 2, 2));
  write_gz(dir / "train-labels-idx1-ubyte.gz", idx_labels({1, 2, 3}));
  write_bytes(dir / "t10k-images-idx3-ubyte", idx_images(2, 2, 2));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels({4, 5}));
  CHECK(load_mnist_folder(dir.path(), Split::train)->size() == 3);
  CHECK(load_mnist_folder(dir.path(), Split::test)->targets() == std::vector<int64_t>{4, 5});
  TempDir empty;
  const std::string msg = error_of([&] { load_mnist_folder(empty.path(), Split::train); });
  CHECK_MESSAGE(has(msg, "train-images-idx3-ubyte"), msg);
}

TEST_CASE("idx: wrong magic is rejected") {
  TempDir dir;
  write_bytes(dir / "img", idx_images(2, 2, 2));
  write_bytes(dir / "lab", idx_labels({0, 1}));
  // Images and labels swapped.
  const std::string msg = error_of([&] { load_idx_dataset(dir / "lab", dir / "img"); });
  CHECK(has(msg, "[idx]"));
  CHECK(has(msg, "lab"));
  CHECK(has(msg, "0x00000803"));
  CHECK(has(msg, "0x00000801"));
}

TEST_CASE("idx: truncated files are rejected, plain and gzip") {
  TempDir dir;
  auto img = idx_images(4, 3, 3);
  img.resize(img.size() - 5);
  write_bytes(dir / "img", img);
  write_gz(dir / "img.gz", img);
  write_bytes(dir / "lab", idx_labels({0, 1, 2, 3}));
  for (const char* name : {"img", "img.gz"}) {
    const std::string msg = error_of([&] { load_idx_dataset(dir / name, dir / "lab"); });
    CHECK(has(msg, "truncated"));
    CHECK(has(msg, name));
  }
  // A gzip stream cut short.
  write_gz(dir / "full.gz", idx_images(50, 8, 8));
  auto gz = read_bytes_for_test(dir / "full.gz");
  gz.resize(gz.size() / 2);
  write_bytes(dir / "cut.gz", gz);
  const std::string msg = error_of([&] { read_idx(dir / "cut.gz", 3); });
  CHECK(has(msg, "cut.gz"));
}

TEST_CASE("idx: a header claiming gigabytes on a tiny file fails at its true size, plain and gzip") {
  // tests/fuzz/fuzz_idx's first finding (corpus/idx/regression-oom-*): labels, one dimension of
  // 0xffffff07 bytes, and nothing after the header. The reader allocated 4 GB before reading.
  const std::vector<uint8_t> header{0x00, 0x00, 0x08, 0x01, 0xff, 0xff, 0xff, 0x07};
  TempDir dir;
  write_bytes(dir / "lab", header);
  write_gz(dir / "lab.gz", header);
  for (const char* name : {"lab", "lab.gz"}) {
    const std::string msg = error_of([&] { read_idx(dir / name, 1); });
    CHECK_MESSAGE(has(msg, "declares 4294967047 data bytes, found 0"), msg);
  }
}

TEST_CASE("idx: a label out of range is rejected") {
  TempDir dir;
  write_bytes(dir / "img", idx_images(3, 2, 2));
  write_bytes(dir / "lab", idx_labels({0, 12, 1}));
  const std::string msg = error_of([&] { load_idx_dataset(dir / "img", dir / "lab"); });
  CHECK(has(msg, "lab"));
  CHECK(has(msg, "label #1 is 12"));
}

TEST_CASE("idx: image and label counts must agree") {
  TempDir dir;
  write_bytes(dir / "img", idx_images(3, 2, 2));
  write_bytes(dir / "lab", idx_labels({0, 1}));
  CHECK(has(error_of([&] { load_idx_dataset(dir / "img", dir / "lab"); }), "3 images"));
}

TEST_CASE("idx: the installed Fashion-MNIST reads whole") {
  const std::filesystem::path folder = ar1::testing::fashion_mnist_or_skip();
  auto train = load_mnist_folder(folder, Split::train);
  auto test = load_mnist_folder(folder, Split::test);
  CHECK(train->size() == 60000);
  CHECK(test->size() == 10000);
  CHECK(train->height() == 28);
  CHECK(train->width() == 28);
  std::vector<int64_t> count(10, 0);
  for (int64_t t : train->targets()) ++count[size_t(t)];
  for (int64_t c : count) CHECK(c == 6000);
  CHECK(classes_present(*test).size() == 10);
}
