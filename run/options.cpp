#include "run/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ar1::run {

namespace {

using Json = nlohmann::ordered_json;

std::string dashed(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::string underscored(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// An enum's values as a user may write them: "cpu, cuda, cuda:N".
std::string choices_text(const OptionSpec& spec) {
  std::vector<std::string> shown = spec.choices;
  for (const auto& c : spec.indexed) shown.push_back(c + ":N");
  return join(shown, ", ");
}

// What a value of this type looks like, for "expects ..." and "needs a value: ...".
std::string expected_kind(const OptionSpec& spec) {
  switch (spec.type) {
    case OptionType::String: return "text";
    case OptionType::Int: return "a whole number";
    case OptionType::Double: return "a number";
    case OptionType::Bool: return "true or false";
    case OptionType::Enum: return "one of " + choices_text(spec);
  }
  return "a value";
}

const char* type_word(OptionType t) {
  switch (t) {
    case OptionType::String: return "String";
    case OptionType::Int: return "Int";
    case OptionType::Double: return "Double";
    case OptionType::Bool: return "Bool";
    case OptionType::Enum: return "Enum";
  }
  return "?";
}

// Checks that `value` holds the variant alternative of spec.type (an Int may feed a Double),
// that an enum value is a choice and that a number is within bounds. `label` starts the
// message: "--lr" or "config file a.json: key \"lr\"". `shown` is how the value was written.
OptionValue checked(const OptionSpec& spec, OptionValue value, const std::string& label,
                    const std::string& shown) {
  switch (spec.type) {
    case OptionType::String:
    case OptionType::Enum:
      AR1_CHECK(std::holds_alternative<std::string>(value), "[ar1] ", label, " expects ",
                expected_kind(spec), "; got ", shown);
      break;
    case OptionType::Int:
      AR1_CHECK(std::holds_alternative<std::int64_t>(value), "[ar1] ", label,
                " expects a whole number; got ", shown);
      break;
    case OptionType::Double:
      if (auto* i = std::get_if<std::int64_t>(&value)) value = static_cast<double>(*i);
      AR1_CHECK(std::holds_alternative<double>(value), "[ar1] ", label,
                " expects a number; got ", shown);
      AR1_CHECK(std::isfinite(std::get<double>(value)), "[ar1] ", label,
                " expects a finite number; got ", shown);
      break;
    case OptionType::Bool:
      AR1_CHECK(std::holds_alternative<bool>(value), "[ar1] ", label,
                " expects true or false; got ", shown);
      break;
  }
  if (spec.type == OptionType::Enum) {
    const auto& s = std::get<std::string>(value);
    const auto colon = s.find(':');
    const bool indexed =
        colon != std::string::npos && colon + 1 < s.size() &&
        std::find(spec.indexed.begin(), spec.indexed.end(), s.substr(0, colon)) !=
            spec.indexed.end() &&
        s.size() - colon - 1 <= 4 &&
        std::all_of(s.begin() + static_cast<std::ptrdiff_t>(colon) + 1, s.end(),
                    [](char ch) { return ch >= '0' && ch <= '9'; });
    if (!indexed && std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
      // A clear near miss gets a hint ("cuda" for "cdua", "cpu" for "CPU"); short words are
      // too easy to confuse ("gpu" is one letter from "cpu" but means "cuda").
      std::string hint;
      std::size_t best = std::numeric_limits<std::size_t>::max();
      for (const auto& c : spec.choices) {
        std::size_t d = edit_distance(lower(s), c);
        std::size_t budget = s.size() >= 4 ? std::max<std::size_t>(1, c.size() / 4) : 0;
        if (d < best && d <= budget) best = d, hint = c;
      }
      AR1_FAIL("[ar1] ", label, " must be one of ", choices_text(spec), "; got ", shown,
               hint.empty() ? "" : " (did you mean " + hint + "?)");
    }
  }
  if (spec.type == OptionType::Int || spec.type == OptionType::Double) {
    double x = spec.type == OptionType::Int ? static_cast<double>(std::get<std::int64_t>(value))
                                            : std::get<double>(value);
    if (spec.min)
      AR1_CHECK(x >= *spec.min, "[ar1] ", label, " must be at least ",
                format_value(spec.type == OptionType::Int
                                 ? OptionValue(static_cast<std::int64_t>(*spec.min))
                                 : OptionValue(*spec.min)),
                "; got ", shown);
    if (spec.max)
      AR1_CHECK(x <= *spec.max, "[ar1] ", label, " must be at most ",
                format_value(spec.type == OptionType::Int
                                 ? OptionValue(static_cast<std::int64_t>(*spec.max))
                                 : OptionValue(*spec.max)),
                "; got ", shown);
  }
  return value;
}

std::optional<bool> parse_bool_word(std::string_view text) {
  std::string t = lower(text);
  if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
  if (t == "false" || t == "no" || t == "off" || t == "0") return false;
  return std::nullopt;
}

// A flag's text into a value of the spec's type (then checked).
OptionValue parse_text(const OptionSpec& spec, std::string_view text, const std::string& label) {
  std::string shown(text.empty() ? "an empty value" : text);
  switch (spec.type) {
    case OptionType::String:
    case OptionType::Enum:
      return checked(spec, std::string(text), label, shown);
    case OptionType::Int: {
      std::string_view t = text;
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec == std::errc::result_out_of_range)
        AR1_FAIL("[ar1] ", label, " is out of range; got ", shown);
      AR1_CHECK(ec == std::errc() && end == t.data() + t.size() && !t.empty(), "[ar1] ", label,
                " expects a whole number; got ", shown);
      return checked(spec, v, label, shown);
    }
    case OptionType::Double: {
      std::string_view t = text;
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      double v = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      AR1_CHECK(ec == std::errc() && end == t.data() + t.size() && !t.empty(), "[ar1] ", label,
                " expects a number; got ", shown);
      return checked(spec, v, label, shown);
    }
    case OptionType::Bool: {
      auto b = parse_bool_word(text);
      AR1_CHECK(b.has_value(), "[ar1] ", label, " expects true or false; got ", shown);
      return *b;
    }
  }
  return {};
}

std::string shorten(std::string s, std::size_t n = 60) {
  if (s.size() > n) s = s.substr(0, n - 3) + "...";
  return s;
}

// A config value into a value of the spec's type (then checked). JSON types must match,
// except that an integral float feeds an Int and an integer feeds a Double.
OptionValue from_json(const OptionSpec& spec, const Json& j, const std::string& label) {
  std::string shown = shorten(j.dump(-1, ' ', false, Json::error_handler_t::replace));
  OptionValue v;
  if (j.is_string()) {
    v = j.get<std::string>();
  } else if (j.is_boolean()) {
    v = j.get<bool>();
  } else if (j.is_number_unsigned()) {
    auto u = j.get<std::uint64_t>();
    AR1_CHECK(u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
              "[ar1] ", label, " is out of range; got ", shown);
    v = static_cast<std::int64_t>(u);
  } else if (j.is_number_integer()) {
    v = j.get<std::int64_t>();
  } else if (j.is_number_float()) {
    double d = j.get<double>();
    if (spec.type == OptionType::Int && std::isfinite(d) && d == std::trunc(d) &&
        std::abs(d) < 9.0e18)
      v = static_cast<std::int64_t>(d);
    else
      v = d;
  } else {
    AR1_FAIL("[ar1] ", label, " expects ", expected_kind(spec), "; got ", shown);
  }
  return checked(spec, std::move(v), label, shown);
}

std::string suggestion_tail(const OptionTable& table, std::string_view unknown,
                            std::string_view prefix, bool underscores) {
  auto near = suggest(table, unknown);
  if (near.empty()) {
    std::string cmd = table.command().empty() ? "" : " " + table.command();
    return "; run `ar1" + cmd + " --help` for the list";
  }
  std::vector<std::string> shown;
  for (auto& n : near) shown.push_back(std::string(prefix) + (underscores ? underscored(n) : n));
  if (shown.size() == 1) return "; did you mean " + shown[0] + "?";
  std::string last = shown.back();
  shown.pop_back();
  return "; did you mean " + join(shown, ", ") + " or " + last + "?";
}

// Line and column (1-based) of the character before byte offset `byte` (nlohmann counts
// bytes read, the failing one included).
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t byte) {
  std::size_t end = std::min(byte == 0 ? 0 : byte - 1, text.size());
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') ++line, col = 1;
    else ++col;
  }
  return {line, col};
}

}  // namespace

// ---- OptionTable -------------------------------------------------------------------------

namespace {
OptionSpec make_spec(std::string name, OptionType type, OptionValue def, std::string help,
                     OptionGroup group) {
  OptionSpec s;
  s.name = std::move(name);
  s.type = type;
  s.default_value = std::move(def);
  s.help = std::move(help);
  s.group = group;
  return s;
}
}  // namespace

OptionTable::OptionTable(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

OptionSpec& OptionTable::add_string(std::string name, std::string def, std::string help,
                                    OptionGroup group, std::string value_name) {
  OptionSpec s =
      make_spec(std::move(name), OptionType::String, std::move(def), std::move(help), group);
  s.value_name = std::move(value_name);
  return add(std::move(s));
}

OptionSpec& OptionTable::add_int(std::string name, std::int64_t def, std::string help,
                                 OptionGroup group) {
  return add(make_spec(std::move(name), OptionType::Int, def, std::move(help), group));
}

OptionSpec& OptionTable::add_double(std::string name, double def, std::string help,
                                    OptionGroup group) {
  return add(make_spec(std::move(name), OptionType::Double, def, std::move(help), group));
}

OptionSpec& OptionTable::add_bool(std::string name, bool def, std::string help,
                                  OptionGroup group) {
  return add(make_spec(std::move(name), OptionType::Bool, def, std::move(help), group));
}

OptionSpec& OptionTable::add_enum(std::string name, std::vector<std::string> choices,
                                  std::string def, std::string help, OptionGroup group) {
  OptionSpec s =
      make_spec(std::move(name), OptionType::Enum, std::move(def), std::move(help), group);
  s.choices = std::move(choices);
  return add(std::move(s));
}

OptionSpec& OptionTable::add(OptionSpec spec) {
  spec.name = dashed(spec.name);
  AR1_CHECK(!spec.name.empty() && spec.name.front() != '-', "[ar1] option table: bad name '",
            spec.name, "' (write it without leading dashes)");
  AR1_CHECK(find(spec.name) == nullptr, "[ar1] option table: --", spec.name, " added twice");
  AR1_CHECK(spec.name != "config" && spec.name != "help",
            "[ar1] option table: --", spec.name, " is reserved by the parser");
  AR1_CHECK(spec.type != OptionType::Enum || !spec.choices.empty(), "[ar1] option table: --",
            spec.name, " is an enum without choices");
  // The default obeys the same rules as a user's value (bounds are checked at parse time,
  // since callers set them after add() returns).
  OptionSpec unbounded = spec;
  unbounded.min.reset();
  unbounded.max.reset();
  spec.default_value = checked(unbounded, spec.default_value, "option table: default of --" +
                                   spec.name + " (" + type_word(spec.type) + ")",
                               format_value(spec.default_value));
  options_.push_back(std::move(spec));
  return options_.back();
}

const OptionSpec* OptionTable::find(std::string_view name) const {
  std::string d = dashed(name);
  for (const auto& o : options_)
    if (o.name == d) return &o;
  return nullptr;
}

OptionSpec& OptionTable::spec(std::string_view name) {
  const std::string d = dashed(name);
  for (auto& o : options_)
    if (o.name == d) return o;
  AR1_FAIL("[ar1] option table ", command_, ": no option ", name);
}

// ---- ResolvedOptions ---------------------------------------------------------------------

ResolvedOptions::ResolvedOptions(const OptionTable& table) : table_(table) {
  entries_.reserve(table.options().size());
  for (const auto& spec : table.options()) {
    // Bounds set after add() are checked here, once, against the default.
    checked(spec, spec.default_value, "option table: default of --" + spec.name,
            format_value(spec.default_value));
    entries_.push_back({spec, spec.default_value, Origin::Default});
  }
}

ResolvedOptions::Entry& ResolvedOptions::entry(std::string_view name) {
  std::string d = dashed(name);
  for (auto& e : entries_)
    if (e.spec.name == d) return e;
  AR1_FAIL("[ar1] internal: no option --", d, " in the table");
}

const ResolvedOptions::Entry& ResolvedOptions::entry(std::string_view name) const {
  return const_cast<ResolvedOptions*>(this)->entry(name);
}

const OptionValue& ResolvedOptions::value(std::string_view name) const {
  return entry(name).value;
}

Origin ResolvedOptions::origin(std::string_view name) const { return entry(name).origin; }

const std::string& ResolvedOptions::str(std::string_view name) const {
  const auto& e = entry(name);
  AR1_CHECK(std::holds_alternative<std::string>(e.value), "[ar1] internal: --", e.spec.name,
            " is not text");
  return std::get<std::string>(e.value);
}

std::int64_t ResolvedOptions::integer(std::string_view name) const {
  const auto& e = entry(name);
  AR1_CHECK(std::holds_alternative<std::int64_t>(e.value), "[ar1] internal: --", e.spec.name,
            " is not an integer");
  return std::get<std::int64_t>(e.value);
}

double ResolvedOptions::number(std::string_view name) const {
  const auto& e = entry(name);
  if (auto* i = std::get_if<std::int64_t>(&e.value)) return static_cast<double>(*i);
  AR1_CHECK(std::holds_alternative<double>(e.value), "[ar1] internal: --", e.spec.name,
            " is not a number");
  return std::get<double>(e.value);
}

bool ResolvedOptions::flag(std::string_view name) const {
  const auto& e = entry(name);
  AR1_CHECK(std::holds_alternative<bool>(e.value), "[ar1] internal: --", e.spec.name,
            " is not a yes/no option");
  return std::get<bool>(e.value);
}

void ResolvedOptions::set(std::string_view name, OptionValue value, Origin origin) {
  auto& e = entry(name);
  std::string shown = format_value(value);
  e.value = checked(e.spec, std::move(value), "--" + e.spec.name, shown);
  e.origin = origin;
}

std::string ResolvedOptions::to_json(int indent) const {
  Json j = Json::object();
  for (const auto& e : entries_) {
    std::visit([&](const auto& v) { j[underscored(e.spec.name)] = v; }, e.value);
  }
  return j.dump(indent, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::vector<std::pair<std::string, std::string>> ResolvedOptions::to_strings() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.emplace_back(e.spec.name, format_value(e.value));
  return out;
}

// ---- config files ------------------------------------------------------------------------

void apply_config_text(ResolvedOptions& into, std::string_view text, std::string_view source) {
  const std::string where(source);
  Json j;
  try {
    j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/true,
                    /*ignore_comments=*/true);
  } catch (const Json::parse_error& e) {
    auto [line, col] = line_column(text, e.byte);
    // nlohmann's text reads "[json.exception...] parse error at line L, column C: why".
    std::string why = e.what();
    if (auto p = why.find("column "); p != std::string::npos) {
      if (auto q = why.find(": ", p); q != std::string::npos) why = why.substr(q + 2);
    } else if (auto r = why.find("parse error"); r != std::string::npos) {
      if (auto q = why.find(": ", r); q != std::string::npos) why = why.substr(q + 2);
    }
    AR1_FAIL("[ar1] ", where, " is not valid JSON: line ", line, ", column ", col, ": ", why);
  } catch (const Json::exception& e) {
    // Not a syntax error but a value JSON cannot hold, e.g. a number beyond double's range
    // (found by tests/fuzz/fuzz_config).
    AR1_FAIL("[ar1] ", where, " is not usable JSON: ", e.what());
  }
  AR1_CHECK(j.is_object(), "[ar1] ", where,
            " must hold a JSON object of option names to values, e.g. {\"inc_lr\": 0.001}; "
            "found ", j.type_name());

  // Resolve every key first so that a file naming one option twice (inc_lr and inc-lr) is
  // caught, and nothing is applied from a file with an error.
  std::vector<std::pair<ResolvedOptions::Entry*, const Json*>> updates;
  std::vector<std::string> seen_as;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    bool uses_underscores = key.find('_') != std::string::npos;
    ResolvedOptions::Entry* e = nullptr;
    if (into.table().find(key)) e = &into.entry(key);
    if (!e)
      AR1_FAIL("[ar1] ", where, ": unknown key \"", key, "\"",
               suggestion_tail(into.table(), key, "", uses_underscores));
    for (std::size_t k = 0; k < updates.size(); ++k)
      AR1_CHECK(updates[k].first != e, "[ar1] ", where, ": ", e->spec.name,
                " is given twice, as \"", seen_as[k], "\" and \"", key, "\"");
    updates.emplace_back(e, &it.value());
    seen_as.push_back(key);
  }
  std::vector<OptionValue> values;
  for (std::size_t k = 0; k < updates.size(); ++k)
    values.push_back(from_json(updates[k].first->spec, *updates[k].second,
                               where + ": key \"" + seen_as[k] + "\""));
  for (std::size_t k = 0; k < updates.size(); ++k) {
    updates[k].first->value = std::move(values[k]);
    updates[k].first->origin = Origin::Config;
  }
}

void apply_config_file(ResolvedOptions& into, const std::filesystem::path& path) {
  std::error_code ec;
  AR1_CHECK(std::filesystem::exists(path, ec), "[ar1] config file ", path.string(),
            " does not exist");
  AR1_CHECK(!std::filesystem::is_directory(path, ec), "[ar1] config file ", path.string(),
            " is a directory; give a JSON file");
  std::ifstream in(path, std::ios::binary);
  AR1_CHECK(in.good(), "[ar1] config file ", path.string(), " cannot be read (permissions?)");
  std::ostringstream buf;
  buf << in.rdbuf();
  AR1_CHECK(!in.bad(), "[ar1] config file ", path.string(), " cannot be read");
  apply_config_text(into, buf.str(), "config file " + path.string());
}

ResolvedOptions read_config_file(const OptionTable& table, const std::filesystem::path& path) {
  ResolvedOptions r(table);
  apply_config_file(r, path);
  return r;
}

// ---- command line ------------------------------------------------------------------------

ParsedArgs parse_args(const OptionTable& table, const std::vector<std::string>& args) {
  ParsedArgs out{ResolvedOptions(table), false, {}};
  for (const auto& a : args)
    if (a == "-h" || a == "--help") {
      out.help = true;
      return out;
    }

  const std::string help_hint =
      "run `ar1" + (table.command().empty() ? std::string() : " " + table.command()) +
      " --help` for the list";
  // First pass: every flag to (spec, value); config files collected. Values are applied
  // after the config files so flags win wherever they appear.
  std::vector<std::pair<const OptionSpec*, OptionValue>> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-' || (arg[1] != '-' && std::isdigit((unsigned char)arg[1]))) {
      AR1_FAIL("[ar1] unexpected argument '", arg, "': options are written --name value; ",
               help_hint);
    }
    if (arg[1] != '-') {  // "-lr": one dash
      std::string body = arg.substr(1);
      if (auto eq = body.find('='); eq != std::string::npos) body = body.substr(0, eq);
      std::string tail = table.find(body) ? "; did you mean --" + dashed(body) + "?"
                                          : suggestion_tail(table, body, "--", false);
      AR1_FAIL("[ar1] unknown option ", arg, tail);
    }
    std::string body = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = body.find('='); eq != std::string::npos) {
      inline_value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    AR1_CHECK(!body.empty(), "[ar1] unexpected argument '", arg, "'; ", help_hint);
    const std::string flag = "--" + body;

    // Takes the value: inline, or the next argument unless that is another option.
    auto take_value = [&](const std::string& what) -> std::string {
      if (inline_value) return *inline_value;
      AR1_CHECK(i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0, "[ar1] ", flag,
                " needs a value: ", what, " (", flag, " VALUE or ", flag, "=VALUE)");
      return args[++i];
    };

    if (dashed(body) == "config") {
      out.config_files.push_back(take_value("a JSON file"));
      continue;
    }
    const OptionSpec* spec = table.find(body);
    if (!spec && dashed(body).rfind("no-", 0) == 0) {
      const OptionSpec* positive = table.find(body.substr(3));
      if (positive) {
        AR1_CHECK(positive->type == OptionType::Bool, "[ar1] ", flag, ": --", positive->name,
                  " is not a yes/no option; give it a value: --", positive->name, " VALUE");
        AR1_CHECK(!inline_value, "[ar1] ", flag, " takes no value; write --", positive->name,
                  "=", *inline_value, " instead");
        flags.emplace_back(positive, false);
        continue;
      }
    }
    if (!spec) AR1_FAIL("[ar1] unknown option ", flag, suggestion_tail(table, body, "--", false));

    const std::string label = "--" + spec->name;
    if (spec->type == OptionType::Bool) {
      if (inline_value) {
        flags.emplace_back(spec, parse_text(*spec, *inline_value, label));
      } else if (i + 1 < args.size() && parse_bool_word(args[i + 1])) {
        flags.emplace_back(spec, *parse_bool_word(args[++i]));
      } else {
        flags.emplace_back(spec, true);
      }
      continue;
    }
    std::string text = take_value(expected_kind(*spec));
    flags.emplace_back(spec, parse_text(*spec, text, label));
  }

  for (const auto& file : out.config_files) apply_config_file(out.options, file);
  for (auto& [spec, value] : flags) {
    auto& e = out.options.entry(spec->name);
    e.value = std::move(value);
    e.origin = Origin::Flag;
  }
  return out;
}

// ---- help --------------------------------------------------------------------------------

namespace {

std::string left_column(const OptionSpec& o) {
  if (o.type == OptionType::Bool) return "--" + o.name + ", --no-" + o.name;
  std::string v = o.value_name;
  if (v.empty()) {
    switch (o.type) {
      case OptionType::Int: v = "INT"; break;
      case OptionType::Double: v = "NUMBER"; break;
      case OptionType::Enum: v = join(o.choices, "|"); break;
      default: v = "TEXT"; break;
    }
  }
  return "--" + o.name + " " + v;
}

// Appends `text` wrapped at `width` columns, continuation lines indented by `indent`.
void wrap_into(std::string& out, const std::string& text, std::size_t indent, std::size_t width) {
  std::istringstream words(text);
  std::string word;
  std::size_t col = indent;
  bool first = true;
  while (words >> word) {
    if (!first && col + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      col = indent;
      first = true;
    }
    if (!first) out += ' ', ++col;
    out += word;
    col += word.size();
    first = false;
  }
}

}  // namespace

std::string help_text(const OptionTable& table) {
  constexpr std::size_t kWidth = 100, kMaxLeft = 36;
  std::string out = "Usage: ar1" + (table.command().empty() ? "" : " " + table.command()) +
                    " [options]\n";
  if (!table.summary().empty()) {
    wrap_into(out, table.summary(), 0, kWidth);
    out += "\n";
  }

  std::size_t left = 0;
  for (const auto& o : table.options()) left = std::max(left, left_column(o).size());
  left = std::min(left, kMaxLeft) + 4;

  auto line = [&](const std::string& l, const std::string& help) {
    out += "  " + l;
    if (l.size() + 2 >= left) out += "\n" + std::string(left, ' ');
    else out += std::string(left - l.size() - 2, ' ');
    wrap_into(out, help, left, kWidth);
    out += "\n";
  };
  const std::pair<OptionGroup, const char*> groups[] = {
      {OptionGroup::Ar1, "AR1 arguments"}, {OptionGroup::Run, "Run settings"}};
  for (const auto& [group, title] : groups) {
    bool any = false;
    for (const auto& o : table.options()) {
      if (o.group != group) continue;
      if (!any) out += std::string("\n") + title + ":\n";
      any = true;
      std::string help = o.help;
      bool empty_text =
          std::holds_alternative<std::string>(o.default_value) &&
          std::get<std::string>(o.default_value).empty();
      if (!empty_text) help += " (default " + format_value(o.default_value) + ")";
      line(left_column(o), help);
    }
  }
  out += "\nOther:\n";
  line("--config FILE",
       "read options from a JSON object, keys as above with dashes or underscores "
       "({\"inc_lr\": 1e-3}); flags override it");
  line("-h, --help", "show this help");
  return out;
}

// ---- suggestions -------------------------------------------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  // Three rows: i-2, i-1, i (the swap looks two rows back).
  std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::vector<std::string> suggest(const OptionTable& table, std::string_view unknown) {
  std::string u = lower(dashed(unknown));
  while (!u.empty() && u.front() == '-') u.erase(u.begin());
  if (u.empty()) return {};

  // 0. Another library's name for an option ("learning_rate" -> lr).
  for (const auto& o : table.options()) {
    if (std::find(o.known_elsewhere.begin(), o.known_elsewhere.end(), u) !=
        o.known_elsewhere.end())
      return {o.name};
  }
  // 1. Typos: the nearest names within a budget that grows with the length.
  const std::size_t budget = u.size() <= 3 ? 1 : u.size() <= 6 ? 2 : 3;
  std::size_t best = budget + 1;
  std::vector<std::string> near;
  for (const auto& o : table.options()) {
    std::size_t d = edit_distance(u, o.name);
    if (d < best) best = d, near.clear();
    if (d == best) near.push_back(o.name);
  }
  // Also without the dashes ("trainepochs", "inclr").
  if (near.empty()) {
    std::string bare = u;
    std::erase(bare, '-');
    for (const auto& o : table.options()) {
      std::string ob = o.name;
      std::erase(ob, '-');
      if (edit_distance(bare, ob) <= (bare.size() <= 3 ? 0u : 1u)) near.push_back(o.name);
    }
  }
  // 2. A part of a name: "epochs" -> --train-epochs, --first-epochs; "mb" -> the batch sizes.
  if (near.empty() && u.size() >= 2) {
    for (const auto& o : table.options()) {
      std::string padded = "-" + o.name + "-";
      if (padded.find("-" + u + "-") != std::string::npos || o.name.rfind(u, 0) == 0)
        near.push_back(o.name);
    }
  }
  if (near.size() > 3) near.resize(3);
  return near;
}

std::string format_value(const OptionValue& value) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(double d) const {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
      return ec == std::errc() ? std::string(buf, end) : std::to_string(d);
    }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace ar1::run
