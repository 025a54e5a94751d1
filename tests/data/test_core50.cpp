#include <doctest/doctest.h>

#include <fstream>

#include "data/core50.h"
#include "data/file_list.h"
#include "error_text.h"
#include "fixtures.h"

using namespace ar1::data;
using namespace ar1::data::testing;

namespace {
Core50Options mini_options() {
  Core50Options o;
  o.scenario = Core50Scenario::nicv2_391;
  o.run = 0;
  o.n_batches = 3;
  return o;
}
}  // namespace

TEST_CASE("core50: miniature NICv2 tree becomes a benchmark") {
  TempDir dir;
  const MiniCore50 m = write_mini_core50(dir.path());
  const Benchmark b = core50_benchmark(dir.path(), mini_options());
  CHECK(b.num_classes == 50);
  REQUIRE(b.train_stream.size() == 3);
  REQUIRE(b.test_stream.size() == 1);
  CHECK(b.train_stream[0].size() == 8);
  CHECK(b.train_stream[0].classes_in_this_experience == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(b.train_stream[1].classes_in_this_experience == std::vector<int64_t>{7});
  CHECK(b.train_stream[2].classes_in_this_experience == std::vector<int64_t>{12});
  CHECK(b.train_stream[2].index == 2);
  CHECK(b.test_stream[0].size() == 6);
  // Contents: experience 1, item 2 is s2/o8 frame 2.
  const auto& e1 = *b.train_stream[1].dataset;
  CHECK(has(e1.source(2), "s2/o8/C_02_08_002.png"));
  CHECK(e1.image(2).pixels == pattern_image(16, 16, 3, 2 * 100 + 7 * 3 + 2).pixels);
}

TEST_CASE("core50: category labels and scenario names") {
  TempDir dir;
  write_mini_core50(dir.path());
  Core50Options o = mini_options();
  o.object_level = false;
  const Benchmark b = core50_benchmark(dir.path(), o);
  CHECK(b.num_classes == 10);
  CHECK(b.train_stream[0].classes_in_this_experience == std::vector<int64_t>{0});
  CHECK(b.train_stream[1].classes_in_this_experience == std::vector<int64_t>{1});
  CHECK(b.train_stream[2].classes_in_this_experience == std::vector<int64_t>{2});
  CHECK(parse_core50_scenario("NICv2_391") == Core50Scenario::nicv2_391);
  CHECK(parse_core50_scenario("NIC_v2_79") == Core50Scenario::nicv2_79);
  CHECK(parse_core50_scenario("NI_inc") == Core50Scenario::ni);
  CHECK(parse_core50_scenario("nc") == Core50Scenario::nc);
  CHECK(core50_train_batches(Core50Scenario::nicv2_196) == 196);
  CHECK(has(error_of([] { parse_core50_scenario("nicv3"); }), "nicv2_391"));
}

TEST_CASE("core50: missing run, batch or image folder is rejected") {
  TempDir dir;
  write_mini_core50(dir.path());
  Core50Options o = mini_options();
  o.run = 5;
  CHECK(has(error_of([&] { core50_benchmark(dir.path(), o); }), "run5"));
  o = mini_options();
  o.n_batches = -1;  // all 391 expected
  CHECK(has(error_of([&] { core50_benchmark(dir.path(), o); }), "train_batch_03_filelist.txt"));
  TempDir empty;
  CHECK(has(error_of([&] { core50_benchmark(empty.path(), mini_options()); }), "core50_128x128"));
}

TEST_CASE("file list: a path that does not exist names the list and line") {
  TempDir dir;
  write_mini_core50(dir.path());
  const auto list = dir / "batches_filelists/NICv2_391/run0/train_batch_01_filelist.txt";
  {
    std::ofstream out(list, std::ios::app);
    out << "\ns2/o8/C_02_08_099.png 7\n";  // a blank line, then a missing frame on line 5
  }
  const std::string msg = error_of([&] { core50_benchmark(dir.path(), mini_options()); });
  CHECK(has(msg, "[file_list]"));
  CHECK(has(msg, "train_batch_01_filelist.txt:5"));
  CHECK(has(msg, "C_02_08_099.png"));
  CHECK(has(msg, "does not exist"));
}

TEST_CASE("file list: a name the file system refuses is a clear error, not another exception") {
  // tests/fuzz/fuzz_file_list's finding (corpus/file_list/regression-name-too-long): a path
  // component longer than NAME_MAX made std::filesystem throw its own error.
  TempDir dir;
  {
    std::ofstream out(dir / "list.txt");
    out << std::string(300, 'x') << ".png 3\n";
  }
  const std::string msg = error_of([&] { read_file_list(dir / "list.txt", dir.path(), 50); });
  CHECK_MESSAGE(has(msg, "list.txt:1"), msg);
  CHECK_MESSAGE(has(msg, "cannot be looked up (File name too long)"), msg);
}

TEST_CASE("file list: a label out of range names the list and line") {
  TempDir dir;
  write_mini_core50(dir.path());
  {
    std::ofstream out(dir / "list.txt");
    out << "s1/o1/C_01_01_000.png 0\ns1/o1/C_01_01_001.png 50\n";
  }
  const std::string msg =
      error_of([&] { read_file_list(dir / "list.txt", dir / "core50_128x128", 50); });
  CHECK(has(msg, "list.txt:2"));
  CHECK(has(msg, "label 50 out of range"));
}

TEST_CASE("file list: a malformed line names the list and line") {
  TempDir dir;
  write_mini_core50(dir.path());
  {
    std::ofstream out(dir / "list.txt");
    out << "s1/o1/C_01_01_000.png 0\r\ns1/o1/C_01_01_001.png\n";
  }
  std::string msg = error_of([&] { read_file_list(dir / "list.txt", dir / "core50_128x128", 50); });
  CHECK(has(msg, "list.txt:2"));
  {
    std::ofstream out(dir / "list2.txt");
    out << "s1/o1/C_01_01_000.png zero\n";
  }
  msg = error_of([&] { read_file_list(dir / "list2.txt", dir / "core50_128x128", 50); });
  CHECK(has(msg, "list2.txt:1"));
  CHECK(has(msg, "integer label"));
  // CRLF lines and paths are accepted.
  const FileList ok = read_file_list(dir / "batches_filelists/NICv2_391/run0/test_filelist.txt",
                                     dir / "core50_128x128", 50);
  CHECK(ok.paths.size() == 6);
}
