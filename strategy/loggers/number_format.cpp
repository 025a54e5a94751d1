#include "strategy/loggers/number_format.h"

#include <charconv>
#include <cmath>

namespace ar1::strategy {

std::string shortest_number(double v, const std::string& missing) {
  if (!std::isfinite(v)) return missing;
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? end : buf);
}

}  // namespace ar1::strategy
