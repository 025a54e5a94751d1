#pragma once
// Skipping a test case that cannot run on this machine (its data is not installed, a GPU is
// present where the case needs none): CTest must say "Skipped", not "Passed", so the case
// prints why and exits with 77, which every discovered test maps to Skipped
// (SKIP_RETURN_CODE 77 in tests/CMakeLists.txt; a doctest skip would exit 0 and read as a pass).
//
// CTest runs each test case as its own process, so the exit ends only that case. A binary run
// by hand stops at the first skip; run it with -tc="<case>" to run one case.
//
// Usage:
//   if (!std::filesystem::exists(dir)) ar1::testing::skip_test("no data at " + dir.string());
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace ar1::testing {

inline constexpr int kSkipReturnCode = 77;

[[noreturn]] inline void skip_test(const std::string& reason) {
  std::cout << "SKIPPED: " << reason << std::endl;
  std::fflush(nullptr);
  // _Exit, not exit: no static destructors run while the test case is still on the stack.
  std::_Exit(kSkipReturnCode);
}

}  // namespace ar1::testing
