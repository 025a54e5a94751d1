#pragma once
// SHA-256 (FIPS 180-4), for the run manifest's fingerprints of the dataset files a run read.
// Small enough to keep here rather than link a crypto library into the light build.
//
//   Sha256 h;
//   h.update(bytes, n);
//   std::string hex = h.hex_digest();          // 64 lowercase hex digits
//   std::string file = sha256_file("train-images-idx3-ubyte.gz");
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace ar1 {

class Sha256 {
 public:
  void update(const void* data, size_t bytes);
  // Pads and finishes; the object is spent afterwards (a second call gives the same digest).
  std::array<uint8_t, 32> digest();
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
  bool finished_ = false;
  std::array<uint8_t, 32> result_{};
};

// The hex digest of a whole file; an unreadable file is an ar1::Error naming it.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace ar1
