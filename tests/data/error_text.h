#pragma once
// error_of(f): the message of the ar1::Error that f() throws, or "(no error)".
#include <string>

#include "core/error.h"

namespace ar1::data::testing {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ar1::Error& e) {
    return e.what();
  }
  return "(no error)";
}

inline bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace ar1::data::testing
