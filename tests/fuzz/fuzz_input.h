#pragma once
// Shared by the libFuzzer targets (tests/fuzz/): the input as a file (most readers take a
// path), and the one outcome a malformed input may have besides success: an ar1::Error that
// names what is wrong. Anything else (a crash, a sanitizer report, another exception, a hang,
// an allocation beyond -rss_limit_mb) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace ar1::fuzz {

// The bytes as a file named ".../ar1_fuzz_<pid><suffix>" (the suffix matters to readers that
// look at it), rewritten per input. /dev/shm where there is one: no disk traffic per execution.
inline std::filesystem::path write_input(const uint8_t* data, size_t size, const std::string& suffix) {
  static const std::filesystem::path dir =
      std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  const std::filesystem::path path = dir / ("ar1_fuzz_" + std::to_string(getpid()) + suffix);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Runs `parse`; a clean refusal (ar1::Error) is an expected outcome.
template <class Parse>
void expect_success_or_error(Parse&& parse) {
  try {
    parse();
  } catch (const ar1::Error&) {
  }
}

}  // namespace ar1::fuzz
