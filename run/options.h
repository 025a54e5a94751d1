#pragma once
// Options of a run: a declarative table, a parser for flags and JSON config files, and the
// resolved values. The `ar1` tool parses its flags with it; the C API and Python their
// JSON configs.
//
// The caller builds the table (see train_options.h for `ar1 train`); this file knows no
// option by name. Names use dashes (`inc-lr`); flags and config keys may spell them with
// underscores too (`--inc_lr`, {"inc_lr": ...}). Precedence: defaults < config files
// (in the order given) < flags. Every problem is one line, thrown as ar1::Error starting
// with "[ar1]".
//
// To add an option: call one of OptionTable's add_* functions where the table is built;
// parsing, JSON, suggestions and --help follow from the table.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ar1::run {

enum class OptionType { String, Int, Double, Bool, Enum };

// Ar1: an argument of the AR1 strategy (Avalanche's constructor, SPEC 3b/3c);
// Run: everything else (data, device, output paths).
enum class OptionGroup { Ar1, Run };

// Enum values are held as strings.
using OptionValue = std::variant<std::string, std::int64_t, double, bool>;

struct OptionSpec {
  std::string name;                  // dashes, no leading "--": "inc-lr"
  OptionType type = OptionType::String;
  OptionValue default_value;
  std::string help;                  // one sentence, shown by --help
  OptionGroup group = OptionGroup::Run;
  std::vector<std::string> choices;  // Enum only
  std::vector<std::string> indexed;  // Enum: these choices also take ":N", N >= 0 ("cuda:1")
  std::optional<double> min, max;    // Int and Double only; inclusive
  std::string value_name;            // shown in --help ("PATH"); empty: from the type
  // Other libraries' names for this option ("learning-rate" for lr): offered by suggest(),
  // never accepted, so that each option keeps one spelling.
  std::vector<std::string> known_elsewhere;
};

class OptionTable {
 public:
  // `command` and `summary` only feed --help: "Usage: ar1 <command> [options]".
  explicit OptionTable(std::string command = {}, std::string summary = {});

  // Each returns the added spec so bounds can be chained: t.add_int(...).min = 0.
  OptionSpec& add_string(std::string name, std::string def, std::string help,
                         OptionGroup group, std::string value_name = "TEXT");
  OptionSpec& add_int(std::string name, std::int64_t def, std::string help, OptionGroup group);
  OptionSpec& add_double(std::string name, double def, std::string help, OptionGroup group);
  OptionSpec& add_bool(std::string name, bool def, std::string help, OptionGroup group);
  OptionSpec& add_enum(std::string name, std::vector<std::string> choices, std::string def,
                       std::string help, OptionGroup group);
  // Checks the spec (unique name, default of the right type and in range) and appends it.
  OptionSpec& add(OptionSpec spec);

  // Accepts dashes or underscores; nullptr when unknown.
  const OptionSpec* find(std::string_view name) const;
  // The spec of a known option, to amend after add(); throws for an unknown name.
  OptionSpec& spec(std::string_view name);
  const std::vector<OptionSpec>& options() const { return options_; }
  const std::string& command() const { return command_; }
  const std::string& summary() const { return summary_; }

 private:
  std::string command_, summary_;
  std::vector<OptionSpec> options_;
};

// Where a resolved value came from.
enum class Origin { Default, Config, Flag };

// The resolved values, one per table entry, in table order.
class ResolvedOptions {
 public:
  struct Entry {
    OptionSpec spec;
    OptionValue value;
    Origin origin = Origin::Default;
  };

  // All defaults.
  explicit ResolvedOptions(const OptionTable& table);

  // Typed access; a name not in the table or a wrong type is a programming error (throws).
  const std::string& str(std::string_view name) const;  // String and Enum
  std::int64_t integer(std::string_view name) const;
  double number(std::string_view name) const;            // Double, or Int widened
  bool flag(std::string_view name) const;
  const OptionValue& value(std::string_view name) const;
  Origin origin(std::string_view name) const;

  // Sets a value as if given by `origin`, with the same checks as a flag.
  void set(std::string_view name, OptionValue value, Origin origin = Origin::Flag);

  const std::vector<Entry>& entries() const { return entries_; }

  // A JSON object in table order. Keys use underscores (`inc_lr`) so that tools such as jq
  // can address them without quoting; reading accepts either spelling.
  std::string to_json(int indent = 2) const;
  // (name with dashes, value as text) pairs for display, e.g. in report.html.
  std::vector<std::pair<std::string, std::string>> to_strings() const;

  Entry& entry(std::string_view name);
  const Entry& entry(std::string_view name) const;
  const OptionTable& table() const { return table_; }

 private:
  OptionTable table_;  // a copy, for suggestions and the command name in messages
  std::vector<Entry> entries_;
};

// Applies a JSON object (the text of a config file) on top of `into`. `source` names it in
// messages: "config file a.json", "config".
void apply_config_text(ResolvedOptions& into, std::string_view text, std::string_view source);
// Reads and applies a config file; a missing or unreadable file is an error naming it.
void apply_config_file(ResolvedOptions& into, const std::filesystem::path& path);
// Defaults, then the file: reads back a run directory's config.json.
ResolvedOptions read_config_file(const OptionTable& table, const std::filesystem::path& path);

struct ParsedArgs {
  ResolvedOptions options;
  bool help = false;                       // -h or --help was given; nothing else checked
  std::vector<std::string> config_files;   // --config, in order
};

// Parses the arguments after the command word:
//   --name value | --name=value | --bool | --no-bool | --bool=true|false | --config FILE
ParsedArgs parse_args(const OptionTable& table, const std::vector<std::string>& args);

// The text printed by `ar1 <command> --help`.
std::string help_text(const OptionTable& table);

// Optimal-string-alignment (restricted Damerau-Levenshtein) distance: insertions,
// deletions, substitutions and swaps of adjacent characters each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The nearest known names to an unknown one (dash spelling), best first; empty when
// nothing is close. Several only when a word of the name matches several options equally.
std::vector<std::string> suggest(const OptionTable& table, std::string_view unknown);

// Formats a value as --help and to_strings() show it (doubles in shortest form).
std::string format_value(const OptionValue& value);

}  // namespace ar1::run
