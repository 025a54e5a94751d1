#include <doctest/doctest.h>

#include "data/cifar_reader.h"
#include "error_text.h"
#include "fixtures.h"

using namespace ar1::data;
using namespace ar1::data::testing;

namespace {
// A record: label byte(s) then planes R, G, B with pixel value (r * 11 + c * 40 + p) mod 256.
std::vector<uint8_t> cifar_batch(const std::vector<std::vector<uint8_t>>& labels) {
  std::vector<uint8_t> out;
  for (size_t r = 0; r < labels.size(); ++r) {
    out.insert(out.end(), labels[r].begin(), labels[r].end());
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) out.push_back(static_cast<uint8_t>((r * 11 + c * 40 + p) % 256));
  }
  return out;
}
}  // namespace

TEST_CASE("cifar: CIFAR-10 batch is read and interleaved to HWC") {
  TempDir dir;
  write_bytes(dir / "data_batch_1.bin", cifar_batch({{3}, {9}, {0}}));
  auto ds = load_cifar_batches({dir / "data_batch_1.bin"}, CifarKind::cifar10);
  REQUIRE(ds->size() == 3);
  CHECK(ds->num_classes() == 10);
  CHECK(ds->targets() == std::vector<int64_t>{3, 9, 0});
  const Image img = ds->image(1);
  CHECK(img.height == 32);
  CHECK(img.channels == 3);
  // pixel p = y * 32 + x, channel c at [p * 3 + c]
  for (int p : {0, 33, 1023})
    for (int c = 0; c < 3; ++c) CHECK(img.pixels[size_t(p * 3 + c)] == (11 + c * 40 + p) % 256);
}

TEST_CASE("cifar: CIFAR-100 fine and coarse labels") {
  TempDir dir;
  write_bytes(dir / "train.bin", cifar_batch({{4, 77}, {19, 2}}));
  write_bytes(dir / "test.bin", cifar_batch({{0, 99}}));
  auto fine = load_cifar_folder(dir.path(), CifarKind::cifar100_fine, Split::train);
  auto coarse = load_cifar_folder(dir.path(), CifarKind::cifar100_coarse, Split::train);
  CHECK(fine->targets() == std::vector<int64_t>{77, 2});
  CHECK(fine->num_classes() == 100);
  CHECK(coarse->targets() == std::vector<int64_t>{4, 19});
  CHECK(coarse->num_classes() == 20);
  CHECK(load_cifar_folder(dir.path(), CifarKind::cifar100_fine, Split::test)->size() == 1);
}

TEST_CASE("cifar: a truncated batch is rejected") {
  TempDir dir;
  auto bytes = cifar_batch({{1}, {2}});
  bytes.resize(bytes.size() - 100);
  write_bytes(dir / "data_batch_1.bin", bytes);
  const std::string msg =
      error_of([&] { load_cifar_batches({dir / "data_batch_1.bin"}, CifarKind::cifar10); });
  CHECK(has(msg, "[cifar]"));
  CHECK(has(msg, "data_batch_1.bin"));
  CHECK(has(msg, "truncated"));
}

TEST_CASE("cifar: a label out of range is rejected") {
  TempDir dir;
  write_bytes(dir / "b.bin", cifar_batch({{1}, {10}}));
  const std::string msg = error_of([&] { load_cifar_batches({dir / "b.bin"}, CifarKind::cifar10); });
  CHECK(has(msg, "b.bin"));
  CHECK(has(msg, "record #1 has label 10"));
  TempDir missing;
  CHECK(has(error_of([&] { load_cifar_folder(missing.path(), CifarKind::cifar10, Split::test); }),
            "test_batch.bin"));
}
