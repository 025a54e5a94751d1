#pragma once
// Numbers for the CSV files: the shortest text that reads back as the same double
// (std::to_chars), e.g. 0.1 -> "0.1", 2.0 -> "2", 1e-07 -> "1e-07".
#include <string>

namespace ar1::strategy {

// `missing` is returned for NaN and infinities (an empty field).
std::string shortest_number(double v, const std::string& missing);

}  // namespace ar1::strategy
