#include "strategy/loggers/json_lines_logger.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace ar1::strategy {

namespace {

using Json = nlohmann::ordered_json;  // ordered: name, value, x

// NaN and infinities are not JSON numbers: null. An integral value is written as an integer
// ("2", as in the CSV files, not nlohmann's "2.0"); -0.0 stays a double to keep its sign.
Json json_number(double v) {
  if (!std::isfinite(v)) return nullptr;
  constexpr double kExact = 9007199254740992.0;  // 2^53: every integer below is a double
  if (std::trunc(v) == v && std::abs(v) < kExact && !(v == 0 && std::signbit(v))) {
    return static_cast<int64_t>(v);
  }
  return v;
}

}  // namespace

std::string to_json_line(const MetricValue& value) {
  Json line;
  line["name"] = value.name;
  if (value.matrix.empty()) {
    line["value"] = json_number(value.value);
  } else {
    Json rows = Json::array();
    for (const auto& row : value.matrix) {
      Json r = Json::array();
      for (double v : row) r.push_back(json_number(v));
      rows.push_back(std::move(r));
    }
    line["value"] = std::move(rows);
  }
  line["x"] = value.x;
  // A logger must not fail a run over a metric name that is not UTF-8: such bytes become
  // U+FFFD.
  return line.dump(-1, ' ', false, Json::error_handler_t::replace);
}

JsonLinesLogger::JsonLinesLogger(const std::filesystem::path& path)
    : file_(path, "json_lines_logger") {}

void JsonLinesLogger::log(const MetricValue& value) {
  if (file_.committed()) return;
  file_.stream() << to_json_line(value) << '\n';
}

}  // namespace ar1::strategy
