#include "strategy/loggers/json_lines_logger.h"

#include <cstdio>

#include "strategy/loggers/number_format.h"

namespace ar1::strategy {

std::string json_string(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string to_json_line(const MetricValue& value) {
  std::string line = "{\"name\":" + json_string(value.name) + ",\"value\":";
  if (value.matrix.empty()) {
    line += shortest_number(value.value, "null");
  } else {
    line += '[';
    for (size_t r = 0; r < value.matrix.size(); ++r) {
      if (r > 0) line += ',';
      line += '[';
      for (size_t c = 0; c < value.matrix[r].size(); ++c) {
        if (c > 0) line += ',';
        line += shortest_number(value.matrix[r][c], "null");
      }
      line += ']';
    }
    line += ']';
  }
  line += ",\"x\":" + std::to_string(value.x) + '}';
  return line;
}

JsonLinesLogger::JsonLinesLogger(const std::filesystem::path& path)
    : file_(path, "json_lines_logger") {}

void JsonLinesLogger::log(const MetricValue& value) {
  if (file_.committed()) return;
  file_.stream() << to_json_line(value) << '\n';
}

}  // namespace ar1::strategy
