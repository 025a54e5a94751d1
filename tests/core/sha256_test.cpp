// SHA-256 against FIPS 180-4's examples and sha256sum's output, through every split of the
// input across update() calls (the block buffering is where such code goes wrong).
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "core/error.h"
#include "core/io/sha256.h"
#include "tests/support/temp_dir.h"

namespace {

std::string hex_of(const std::string& text) {
  ar1::Sha256 h;
  h.update(text.data(), text.size());
  return h.hex_digest();
}

}  // namespace

TEST_CASE("sha256 gives the FIPS 180-4 digests") {
  CHECK(hex_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex_of(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 is the same whichever way the input is split") {
  std::string text;
  for (int i = 0; i < 300; ++i) text += static_cast<char>(i * 7 + 3);
  const std::string whole = hex_of(text);
  for (size_t cut = 0; cut <= text.size(); cut += 13) {
    ar1::Sha256 h;
    h.update(text.data(), cut);
    h.update(text.data() + cut, text.size() - cut);
    CHECK(h.hex_digest() == whole);
  }
  // 55, 56 and 64 bytes: the padding needs one block, just two, and a whole extra block.
  CHECK(hex_of(std::string(55, 'x')) == "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
  CHECK(hex_of(std::string(56, 'x')) == "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
  CHECK(hex_of(std::string(64, 'x')) == "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
}

TEST_CASE("sha256_file hashes a file and names a missing one") {
  ar1::testing::TempDir dir("sha256");
  const auto path = dir / "data.bin";
  std::ofstream(path, std::ios::binary) << "abc";
  CHECK(ar1::sha256_file(path) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_THROWS_WITH_AS(ar1::sha256_file(dir / "absent.bin"),
                       doctest::Contains("absent.bin"), ar1::Error);
}
