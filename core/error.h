#pragma once
// Errors: every message starts with the component in brackets and says what was expected,
// what was found and, where there is one, the fix.
#include <sstream>
#include <stdexcept>
#include <string>

namespace ar1 {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

}  // namespace ar1

// AR1_CHECK(cond, "[op] ", "what", value, ...): throws ar1::Error with the parts joined.
#define AR1_CHECK(cond, ...)                                   \
  do {                                                         \
    if (!(cond)) throw ::ar1::Error(::ar1::detail::concat(__VA_ARGS__)); \
  } while (0)

#define AR1_FAIL(...) throw ::ar1::Error(::ar1::detail::concat(__VA_ARGS__))
