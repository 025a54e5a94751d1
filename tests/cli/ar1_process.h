#pragma once
// Running the `ar1` binary (AR1_BINARY, set by tests/cli/CMakeLists.txt) from a test case, and
// the small file helpers the CLI tests share.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/skip_test.h"

namespace ar1::testing {

namespace fs = std::filesystem;

struct Result {
  int status = -1;
  std::string output;  // stdout and stderr
};

// A shell command line, its stdout and stderr together.
inline Result run_shell(const std::string& command) {
  const std::string cmd = "(" + command + ") 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int raw = pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

// `ar1 <args>` with environment assignments ("NAME=value ...", or none) in front of it.
inline Result run_with_env(const std::string& env, const std::string& args) {
  return run_shell(env + " " + std::string(AR1_BINARY) + " " + args);
}

inline Result run(const std::string& args) { return run_with_env("", args); }

// In a cross build the tests run under an emulator (AR1_TEST_EMULATOR, tests/CMakeLists.txt,
// e.g. qemu-aarch64), which runs the programs named on its command line but not those they
// start themselves: a case whose `ar1` starts another `ar1` is Skipped there, naming why.
inline void skip_when_emulated(const std::string& what) {
  if (std::string(AR1_TEST_EMULATOR).empty()) return;
  skip_test(what + ", and under the emulator (" + AR1_TEST_EMULATOR + ") a program cannot " +
            "start another of this build's programs itself (qemu-user without binfmt_misc)");
}

inline fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("ar1_cli_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d;
}

inline std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace ar1::testing
