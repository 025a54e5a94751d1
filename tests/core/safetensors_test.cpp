// safetensors I/O: round trips, exact bytes, one test per malformed header, atomic saves and a
// file written from PyTorch (tools/make_fixtures.py).
//
// To add a malformed case: write the header JSON with write_raw() below and check the error
// with expect_load_error(path, "a phrase of the message").
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/half.h"
#include "core/io/safetensors.h"
#include "core/tensor.h"
#include "tests/support/skip_test.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using ar1::DType;
using ar1::Tensor;

namespace {

using ar1::testing::TempDir;

std::vector<unsigned char> bytes_of(const Tensor& t) {
  const auto* p = static_cast<const unsigned char*>(t.raw_data());
  return {p, p + t.numel() * static_cast<int64_t>(ar1::dtype_size(t.dtype()))};
}

std::vector<unsigned char> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::vector<unsigned char>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void put_u64(std::vector<unsigned char>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// A crafted file: 8-byte length (the header's unless `length` is given), header, `data_bytes`
// bytes of data.
void write_raw(const fs::path& p, const std::string& header, size_t data_bytes,
               int64_t length = -1) {
  std::vector<unsigned char> bytes;
  put_u64(bytes, length < 0 ? header.size() : static_cast<uint64_t>(length));
  bytes.insert(bytes.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_bytes; ++i) bytes.push_back(static_cast<unsigned char>(i));
  write_bytes(p, bytes);
}

void expect_load_error(const fs::path& p, const std::string& phrase) {
  std::string message;
  try {
    ar1::load_safetensors(p);
  } catch (const ar1::Error& e) {
    message = e.what();
  }
  INFO("message: ", message);
  CHECK_MESSAGE(!message.empty(), "load_safetensors did not throw");
  CHECK(message.rfind("[safetensors] ", 0) == 0);
  CHECK(message.find(phrase) != std::string::npos);
  CHECK(message.find(p.string()) != std::string::npos);
}

Tensor make_u16(DType dtype, const std::vector<uint16_t>& bits, const ar1::Shape& shape) {
  Tensor t = Tensor::empty(shape, dtype);
  std::memcpy(t.raw_data(), bits.data(), bits.size() * 2);
  return t;
}

Tensor make_i64(const std::vector<int64_t>& values, const ar1::Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::i64);
  std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

}  // namespace

TEST_CASE("safetensors round trip of every dtype, 0-d and empty tensors, metadata") {
  TempDir dir("safetensors");
  const fs::path p = dir / "all.safetensors";
  Tensor f32 = Tensor::from_vector(std::vector<float>{1.5f, -2.f, 0.f, -0.f, 3e-38f, 7.f},
                                   {2, 3});
  Tensor i64 = make_i64({0, -1, INT64_MAX, INT64_MIN}, {4});
  Tensor u8 = Tensor::empty({5}, DType::u8);
  for (int i = 0; i < 5; ++i) u8.data<uint8_t>()[i] = static_cast<uint8_t>(i * 60);
  Tensor f16 = make_u16(DType::f16,
                        {ar1::float_to_half(1.f), ar1::float_to_half(-0.5f), 0x7c00, 0x0001,
                         0x7e00, ar1::float_to_half(65504.f)},
                        {3, 2});
  Tensor bf16 = make_u16(DType::bf16, {ar1::float_to_bfloat16(3.f), 0xff80}, {2});
  Tensor scalar = Tensor::scalar(42.f);
  Tensor empty = Tensor::empty({0, 3});
  const ar1::NamedTensors in = {{"f32", f32},       {"i64", i64},     {"u8", u8},
                                {"f16", f16},       {"bf16", bf16},   {"scalar", scalar},
                                {"empty", empty},   {"naïve \"q\"\\", f32}};
  const ar1::SafetensorsMetadata meta = {{"format", "pt"},
                                         {"note", "line1\nline2 \"quoted\" \\ tab\t"},
                                         {"empty", ""}};
  ar1::save_safetensors(p, in, meta);

  const ar1::SafetensorsFile f = ar1::load_safetensors(p);
  CHECK(f.metadata() == meta);
  REQUIRE(f.size() == in.size());
  // File order is save order.
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& [name, t] = f.tensors()[i];
    const std::string& tensor_name = name;  // CAPTURE's lambda cannot take a binding in clang 14
    CAPTURE(tensor_name);
    CHECK(name == in[i].first);
    CHECK(t.dtype() == in[i].second.dtype());
    CHECK(t.shape() == in[i].second.shape());
    CHECK(t.is_contiguous());
    CHECK(t.device().is_cpu());
    CHECK(bytes_of(t) == bytes_of(in[i].second));
  }
  CHECK(f.at("scalar").dim() == 0);
  CHECK(f.at("scalar").item() == 42.f);
  CHECK(f.at("empty").numel() == 0);
  CHECK(f.at("i64").to_vector<int64_t>() == i64.to_vector<int64_t>());
  CHECK(f.contains("naïve \"q\"\\"));
  CHECK_THROWS_WITH_AS(f.at("missing"), doctest::Contains("has no tensor \"missing\""),
                       ar1::Error);
  // No temporary file is left next to the result.
  CHECK(dir.entries() == std::vector<std::string>{"all.safetensors"});
}

TEST_CASE("safetensors writes the exact standard bytes") {
  TempDir dir("safetensors");
  const fs::path p = dir / "exact.safetensors";
  float nan_payload;
  const uint32_t nan_bits = 0x7fc01234u;
  std::memcpy(&nan_payload, &nan_bits, 4);
  Tensor a = Tensor::from_vector(std::vector<float>{-0.f, nan_payload}, {2});
  Tensor b = make_i64({7}, {1, 1});
  ar1::save_safetensors(p, {{"a", a}, {"b", b}}, {{"k", "v"}});

  const std::string json =
      R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"I64","shape":[1,1],"data_offsets":[8,16]}})";
  std::string padded = json;
  while ((8 + padded.size()) % 8 != 0) padded += ' ';
  std::vector<unsigned char> want;
  put_u64(want, padded.size());
  want.insert(want.end(), padded.begin(), padded.end());
  const auto da = bytes_of(a), db = bytes_of(b);
  want.insert(want.end(), da.begin(), da.end());
  want.insert(want.end(), db.begin(), db.end());
  CHECK(read_file(p) == want);

  // And the NaN payload and the sign of zero survive the trip back.
  const auto f = ar1::load_safetensors(p);
  CHECK(bytes_of(f.at("a")) == da);
}

TEST_CASE("safetensors saves a strided view densely") {
  TempDir dir("safetensors");
  const fs::path p = dir / "strided.safetensors";
  // [[0,1,2],[3,4,5]] viewed transposed: [3, 2] with strides [1, 3].
  Tensor base = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {2, 3});
  auto impl = std::make_shared<ar1::TensorImpl>();
  impl->storage = base.storage();
  impl->shape = {3, 2};
  impl->strides = {1, 3};
  Tensor t(impl);
  REQUIRE(!t.is_contiguous());
  ar1::save_safetensors(p, {{"t", t}});
  const auto f = ar1::load_safetensors(p);
  CHECK(f.at("t").shape() == ar1::Shape{3, 2});
  CHECK(f.at("t").to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("safetensors reads an empty tensor list and a header with whitespace and escapes") {
  TempDir dir("safetensors");
  const fs::path p = dir / "none.safetensors";
  ar1::save_safetensors(p, {});
  CHECK(ar1::load_safetensors(p).size() == 0);
  // A header with surrounding whitespace and an escaped name is valid.
  const fs::path q = dir / "ws.safetensors";
  write_raw(q, " {\"a\\u00e9\\ud83d\\ude00\" : {\"dtype\":\"U8\", \"shape\":[ 2 ],"
               "\"data_offsets\":[0, 2]}}   ",
            2);
  const auto f = ar1::load_safetensors(q);
  CHECK(f.contains("a\xc3\xa9\xf0\x9f\x98\x80"));
}

// ---------------------------------------------------------------- malformed files

TEST_CASE("safetensors rejects a file shorter than the length field") {
  TempDir dir("safetensors");
  write_bytes(dir / "f", {1, 2, 3});
  expect_load_error(dir / "f", "shorter than the 8-byte header length");
}

TEST_CASE("safetensors rejects a missing file") {
  TempDir dir("safetensors");
  expect_load_error(dir / "nope.safetensors", "cannot open");
}

TEST_CASE("safetensors rejects a header length below 2") {
  TempDir dir("safetensors");
  write_raw(dir / "f", "{}", 0, 1);
  expect_load_error(dir / "f", "header length 1 is too small");
}

TEST_CASE("safetensors rejects a header length above 100 MB") {
  TempDir dir("safetensors");
  write_raw(dir / "f", "{}", 0, 100'000'001);
  expect_load_error(dir / "f", "exceeds the 100000000-byte limit");
}

TEST_CASE("safetensors rejects a header length past the end of the file") {
  TempDir dir("safetensors");
  write_raw(dir / "f", "{}", 0, 64);
  expect_load_error(dir / "f", "runs past the end of the 10-byte file");
}

TEST_CASE("safetensors rejects malformed JSON") {
  TempDir dir("safetensors");
  struct Case {
    const char* header;
    const char* phrase;
  };
  const Case cases[] = {
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}",
       "unexpected end of input; expected '}'"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],}}",
       "unexpected '}'; expected string literal"},
      {"[1, 2]", "the header must be a JSON object"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}",
       "expected an integer"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[01],\"data_offsets\":[0,1]}}", "leading zero"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", "negative number"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],\"data_offsets\":[0,1]}}",
       "integer too large"},
      {"{\"a\\q\":{}}", "forbidden character after backslash"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}} x",
       "expected end of input"},
      {"{\"a\":true}",
       "expected an object {\"dtype\", \"shape\", \"data_offsets\"}, found a boolean"},
      {"{\"a\":{\"b\":{\"c\":{}}}}", "nest deeper"},
      {"{\"a\":\"unterminated}", "missing closing quote"},
      {"{\"\\ud800x\":{}}", "surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"},
      {"{\"a\tb\":{}}", "control character U+0009 (HT) must be escaped"},
      {"{\"\xff\":{}}", "ill-formed UTF-8 byte"},
      {"{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
       "key \"dtype\" appears twice in one object"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[[1]],\"data_offsets\":[0,1]}}", "arrays nest deeper"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[\"1\"],\"data_offsets\":[0,1]}}",
       "\"shape\" element 0: expected a non-negative integer, found a string"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.header);
    write_raw(dir / "f", c.header, 1);
    expect_load_error(dir / "f", c.phrase);
  }
}

TEST_CASE("safetensors rejects an unknown or unsupported dtype") {
  TempDir dir("safetensors");
  write_raw(dir / "f", R"({"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})", 1);
  expect_load_error(dir / "f", "dtype \"Q7\" is unknown");
  write_raw(dir / "f", R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8);
  expect_load_error(dir / "f", "dtype \"F64\" is not supported");
}

TEST_CASE("safetensors rejects a shape that disagrees with its offsets") {
  TempDir dir("safetensors");
  write_raw(dir / "f", R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 20);
  expect_load_error(dir / "f", "span 20 bytes but F32 shape [2, 3] needs 24");
}

TEST_CASE("safetensors rejects offsets out of the file's range") {
  TempDir dir("safetensors");
  write_raw(dir / "f", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 12);
  expect_load_error(dir / "f", "run past the data buffer of 12 bytes");
}

TEST_CASE("safetensors rejects offsets that end before they begin") {
  TempDir dir("safetensors");
  write_raw(dir / "f", R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4);
  expect_load_error(dir / "f", "end before they begin");
}

TEST_CASE("safetensors rejects overlapping tensors") {
  TempDir dir("safetensors");
  write_raw(dir / "f",
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            12);
  expect_load_error(dir / "f", "overlap tensor \"a\"");
}

TEST_CASE("safetensors rejects duplicate tensor names") {
  TempDir dir("safetensors");
  write_raw(dir / "f",
            R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
            R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
            2);
  expect_load_error(dir / "f", "tensor name \"a\" appears twice");
}

TEST_CASE("safetensors rejects holes and trailing bytes in the data buffer") {
  TempDir dir("safetensors");
  write_raw(dir / "f",
            R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
            R"("b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})",
            3);
  expect_load_error(dir / "f", "gap of 1 bytes before tensor \"b\"");
  write_raw(dir / "f", R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 5);
  expect_load_error(dir / "f", "4 bytes after the last tensor");
}

TEST_CASE("safetensors rejects malformed tensor entries and metadata") {
  TempDir dir("safetensors");
  write_raw(dir / "f", R"({"a":{"dtype":"U8","shape":[1]}})", 1);
  expect_load_error(dir / "f", "missing \"data_offsets\"");
  write_raw(dir / "f", R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":"y"}})", 1);
  expect_load_error(dir / "f", "unexpected key \"x\"");
  write_raw(dir / "f", R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1]}})", 1);
  expect_load_error(dir / "f", "must be an array [begin, end]");
  write_raw(dir / "f", R"({"a":"F32"})", 0);
  expect_load_error(dir / "f", "expected an object {\"dtype\"");
  write_raw(dir / "f", R"({"__metadata__":{"epoch":[3]}})", 0);
  expect_load_error(dir / "f", "__metadata__ value \"epoch\" must be a string");
}

// ---------------------------------------------------------------- atomic saves

TEST_CASE("safetensors save into a missing directory leaves nothing behind") {
  TempDir dir("safetensors");
  const fs::path p = dir / "no_such_dir" / "x.safetensors";
  CHECK_THROWS_WITH_AS(ar1::save_safetensors(p, {{"a", Tensor::ones({3})}}),
                       doctest::Contains("cannot create a temporary file"), ar1::Error);
  CHECK(dir.entries().empty());
}

TEST_CASE("safetensors save with invalid input leaves nothing behind") {
  TempDir dir("safetensors");
  const fs::path p = dir / "x.safetensors";
  Tensor a = Tensor::ones({3});
  CHECK_THROWS_WITH_AS(ar1::save_safetensors(p, {{"a", a}, {"a", a}}),
                       doctest::Contains("appears twice"), ar1::Error);
  CHECK_THROWS_WITH_AS(ar1::save_safetensors(p, {{"a", Tensor()}}),
                       doctest::Contains("is undefined"), ar1::Error);
  CHECK_THROWS_WITH_AS(ar1::save_safetensors(p, {{"__metadata__", a}}),
                       doctest::Contains("reserved"), ar1::Error);
  // JSON holds UTF-8 only: our error, not nlohmann's exception.
  CHECK_THROWS_WITH_AS(ar1::save_safetensors(p, {{"bad\xff", a}}),
                       doctest::Contains("not valid UTF-8"), ar1::Error);
  CHECK(dir.entries().empty());
}

TEST_CASE("safetensors write failing midway keeps the old file and removes the temp") {
  TempDir dir("safetensors");
  const fs::path p = dir / "ckpt.safetensors";
  Tensor old = Tensor::full({4}, 1.f);
  ar1::save_safetensors(p, {{"w", old}});
  const auto old_bytes = read_file(p);

  // Make writes fail after 4 KiB (EFBIG instead of the default SIGXFSZ kill) and save 64 KiB.
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(::sigaction(SIGXFSZ, &ignore, &previous) == 0);
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  rlimit small = saved;
  small.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    ar1::save_safetensors(p, {{"w", Tensor::full({16384}, 2.f)}});
  } catch (const ar1::Error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::sigaction(SIGXFSZ, &previous, nullptr);

  INFO("message: ", message);
  CHECK(message.find("writing tensor data failed") != std::string::npos);
  CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
  CHECK(read_file(p) == old_bytes);
  CHECK(ar1::load_safetensors(p).at("w").to_vector<float>() == old.to_vector<float>());
}

// ---------------------------------------------------------------- PyTorch-written file

TEST_CASE("safetensors reads a PyTorch fixture (conv_dense)") {
  const fs::path p = fs::path(AR1_TEST_FIXTURES) / "conv_dense.safetensors";
  if (!fs::exists(p)) {
    ar1::testing::skip_test("fixture " + p.string() + " missing; run tools/make_fixtures.py");
  }
  const auto f = ar1::load_safetensors(p);
  CHECK(f.metadata().at("op") == "conv2d");
  CHECK(f.metadata().at("stride") == "1");
  CHECK(f.metadata().at("padding") == "1");
  CHECK(f.metadata().at("groups") == "1");
  const Tensor& x = f.at("x");
  const Tensor& w = f.at("w");
  const Tensor& out = f.at("out");
  REQUIRE(x.shape() == ar1::Shape{2, 3, 9, 9});
  REQUIRE(w.shape() == ar1::Shape{5, 3, 3, 3});
  REQUIRE(out.shape() == ar1::Shape{2, 5, 9, 9});
  CHECK(f.at("grad.x").shape() == x.shape());
  CHECK(f.at("grad.w").shape() == w.shape());
  CHECK(f.at("g").shape() == out.shape());

  // The values are what PyTorch computed: a naive convolution in double agrees.
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  const float* op = out.data<float>();
  double worst = 0;
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 5; ++o)
      for (int i = 0; i < 9; ++i)
        for (int j = 0; j < 9; ++j) {
          double acc = 0;
          for (int c = 0; c < 3; ++c)
            for (int ki = 0; ki < 3; ++ki)
              for (int kj = 0; kj < 3; ++kj) {
                const int yi = i + ki - 1, xj = j + kj - 1;
                if (yi < 0 || yi >= 9 || xj < 0 || xj >= 9) continue;
                acc += double(xp[((n * 3 + c) * 9 + yi) * 9 + xj]) *
                       double(wp[((o * 3 + c) * 3 + ki) * 3 + kj]);
              }
          worst = std::max(worst, std::abs(acc - op[((n * 5 + o) * 9 + i) * 9 + j]));
        }
  CHECK(worst < 1e-4);  // f32 accumulation over 27 products of O(1) values
}

TEST_CASE("safetensors loads every PyTorch fixture") {
  const fs::path dir(AR1_TEST_FIXTURES);
  if (!fs::is_directory(dir)) {
    ar1::testing::skip_test("no fixtures directory " + dir.string() +
                            "; run tools/make_fixtures.py");
  }
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".safetensors") continue;
    CAPTURE(e.path().string());
    const auto f = ar1::load_safetensors(e.path());
    CHECK(f.size() > 0);
    CHECK(f.metadata().size() > 0);
    for (const auto& [name, t] : f.tensors()) {
      CHECK((t.dtype() == DType::f32 || t.dtype() == DType::i64 || t.dtype() == DType::f16 ||
             t.dtype() == DType::u8));
    }
    ++files;
  }
  CHECK(files >= 12);
}
