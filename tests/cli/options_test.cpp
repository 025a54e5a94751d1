// Option table, flags, config files, suggestions and --help (run/options.h) and the
// table of `ar1 train` (run/train_options.h).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "run/options.h"
#include "run/train_options.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace ar1::run;

namespace {

using ar1::testing::TempDir;

// The message of the ar1::Error that `f` throws, or a marker when it throws none.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ar1::Error& e) {
    return e.what();
  }
  return "<no error>";
}


ParsedArgs parse(const std::vector<std::string>& args) {
  return parse_args(train_options(), args);
}

// A small table with one option of each type, independent of train_options().
OptionTable small_table() {
  OptionTable t("demo");
  t.add_double("lr", 0.1, "learning rate", OptionGroup::Ar1).min = 0;
  t.add_int("epochs", 2, "epochs", OptionGroup::Ar1).min = 1;
  t.add_bool("fast", false, "go fast", OptionGroup::Run);
  t.add_enum("device", {"cpu", "cuda"}, "cpu", "where", OptionGroup::Run);
  t.add_string("out", "", "output directory", OptionGroup::Run, "DIR");
  return t;
}

}  // namespace

TEST_CASE("options train table defaults to the main job and configs/avalanche.json restores the seed's") {
  // The embedded main job: SPEC.md 3c's recipe for random weights.
  ResolvedOptions main_job(train_options());
  CHECK(main_job.number("lr") == 0.01);
  CHECK(main_job.number("inc-lr") == 1e-3);
  CHECK(main_job.number("init-update-rate") == 0.1);
  CHECK(main_job.number("inc-update-rate") == 0.01);
  CHECK(main_job.str("freeze-below-layer") == "end_features.0.conv");
  CHECK(main_job.integer("first-epochs") == 10);
  CHECK(main_job.flag("freeze-norm"));
  CHECK(main_job.flag("refresh-latents"));
  CHECK(main_job.flag("replay-wrap"));
  CHECK(main_job.flag("recalibrate-norm"));
  CHECK(main_job.str("init") == "kaiming");
  CHECK(main_job.number("alpha") == 0.5);
  CHECK(main_job.integer("image-size") == 32);
  CHECK(main_job.integer("train-per-class") == 2000);
  for (const auto& e : main_job.entries()) CHECK(e.origin == Origin::Default);

  // With the shipped Avalanche config, every AR1 argument has the seed's default.
  ResolvedOptions o(train_options());
  apply_config_file(o, std::string(AR1_TEST_FIXTURES) + "/../../configs/avalanche.json");
  CHECK(o.number("lr") == 0.001);
  CHECK(o.number("inc-lr") == 5e-5);
  CHECK(o.number("momentum") == 0.9);
  CHECK(o.number("l2") == 5e-4);
  CHECK(o.integer("train-epochs") == 4);
  CHECK(o.number("init-update-rate") == 0.01);
  CHECK(o.number("inc-update-rate") == 5e-5);
  CHECK(o.number("max-r-max") == 1.25);
  CHECK(o.number("max-d-max") == 0.5);
  CHECK(o.number("inc-step") == 4.1e-5);
  CHECK(o.integer("rm-sz") == 1500);
  CHECK(o.str("freeze-below-layer") == "lat_features.19.bn");
  CHECK(o.integer("latent-layer-num") == 19);
  CHECK(o.number("ewc-lambda") == 0.0);
  CHECK(o.integer("train-mb-size") == 128);
  CHECK(o.integer("eval-mb-size") == 128);
  CHECK(o.integer("eval-every") == -1);
  // SPEC 3b/3c: defaults reproduce section 3.
  CHECK(o.integer("first-epochs") == 0);
  CHECK(o.number("first-lr") == 0.0);
  CHECK(o.flag("freeze-norm") == false);
  CHECK(o.flag("refresh-latents") == false);
  CHECK(o.flag("replay-wrap") == false);
  CHECK(o.flag("recalibrate-norm") == false);
  CHECK(o.str("replay-dtype") == "f32");
  CHECK(o.str("init") == "pytorch");
  // Run settings.
  CHECK(o.str("dataset") == "fashion-mnist");
  CHECK(o.str("scenario") == "nic");
  CHECK(o.str("device") == "cpu");
  CHECK(o.integer("run") == 0);
  CHECK(o.integer("seed") == 0);
  CHECK(o.integer("threads") == 0);
  CHECK(o.str("baseline") == "none");
  CHECK(o.integer("limit") == 0);
  for (const char* name : {"data-root", "weights", "out", "resume"}) CHECK(o.str(name).empty());
  CHECK(o.integer("n-experiences") == 0);
  // Every AR1 argument sits in the AR1 group; every run setting in the run group.
  CHECK(o.entry("lr").spec.group == OptionGroup::Ar1);
  CHECK(o.entry("refresh-latents").spec.group == OptionGroup::Ar1);
  CHECK(o.entry("dataset").spec.group == OptionGroup::Run);
}

TEST_CASE("options configs/nic_long.json is the main job on 201 experiences with replay_wrap and recalibrate_norm") {
  ResolvedOptions o(train_options());
  apply_config_file(o, std::string(AR1_TEST_FIXTURES) + "/../../configs/nic_long.json");
  CHECK(o.integer("n-experiences") == 201);
  CHECK(o.integer("first-epochs") == 2);
  CHECK(o.flag("replay-wrap"));
  CHECK(o.flag("recalibrate-norm"));
  CHECK(o.origin("replay-wrap") == Origin::Config);
  CHECK(o.origin("recalibrate-norm") == Origin::Config);
  // Everything else stays the main job's.
  const ResolvedOptions main_job(train_options());
  for (const auto& e : o.entries()) {
    if (e.spec.name == "n-experiences" || e.spec.name == "first-epochs" ||
        e.spec.name == "replay-wrap" || e.spec.name == "recalibrate-norm") {
      continue;
    }
    CAPTURE(e.spec.name);
    CHECK(e.value == main_job.value(e.spec.name));
  }
  CHECK_FALSE(parse({"--no-replay-wrap"}).options.flag("replay-wrap"));
  CHECK(parse({"--replay_wrap=true"}).options.flag("replay-wrap"));
  CHECK_FALSE(parse({"--recalibrate-norm=false"}).options.flag("recalibrate-norm"));
}

TEST_CASE("options flag forms: space, equals, booleans, negative numbers, underscores") {
  auto p = parse({"--lr", "0.01", "--inc-lr=1e-3", "--freeze-norm", "--no-refresh-latents",
                  "--eval-every", "-1", "--rm_sz", "3000", "--train_epochs=7", "--seed", "+5",
                  "--device=cuda", "--weights", "w.safetensors"});
  const auto& o = p.options;
  CHECK_FALSE(p.help);
  CHECK(o.number("lr") == 0.01);
  CHECK(o.number("inc-lr") == 1e-3);
  CHECK(o.flag("freeze-norm"));
  CHECK_FALSE(o.flag("refresh-latents"));
  CHECK(o.integer("eval-every") == -1);
  CHECK(o.integer("rm-sz") == 3000);
  CHECK(o.integer("train-epochs") == 7);
  CHECK(o.integer("seed") == 5);
  CHECK(o.str("device") == "cuda");
  CHECK(o.str("weights") == "w.safetensors");
  CHECK(o.origin("lr") == Origin::Flag);
  CHECK(o.origin("momentum") == Origin::Default);

  // A boolean takes a following true/false word, or =value; anything else is the next flag.
  auto b = parse({"--freeze-norm", "false", "--refresh-latents=yes"});
  CHECK_FALSE(b.options.flag("freeze-norm"));
  CHECK(b.options.flag("refresh-latents"));
  // The last of repeated flags wins; an integer feeds a double option.
  auto r = parse({"--lr", "1", "--lr", "2"});
  CHECK(r.options.number("lr") == 2.0);
  // An empty string is a value.
  CHECK(parse({"--out="}).options.str("out").empty());
}

TEST_CASE("options precedence: defaults then config file then flags") {
  TempDir dir("cli_options");
  auto cfg = dir.write("run.json", R"({"inc_lr": 1e-3, "rm-sz": 1500, "momentum": 0.5,
                                        "train_epochs": 9, "freeze_norm": true})");
  // Flags override the file wherever --config appears.
  for (bool config_first : {true, false}) {
    std::vector<std::string> args = {"--momentum", "0.8", "--rm-sz", "700"};
    if (config_first) args.insert(args.begin(), {"--config", cfg.string()});
    else args.push_back("--config=" + cfg.string());
    auto p = parse(args);
    const auto& o = p.options;
    CHECK(o.number("momentum") == 0.8);
    CHECK(o.origin("momentum") == Origin::Flag);
    CHECK(o.integer("rm-sz") == 700);
    CHECK(o.number("inc-lr") == 1e-3);
    CHECK(o.origin("inc-lr") == Origin::Config);
    CHECK(o.integer("train-epochs") == 9);
    CHECK(o.flag("freeze-norm"));
    CHECK(o.number("lr") == 0.01);
    CHECK(o.origin("lr") == Origin::Default);
    REQUIRE(p.config_files.size() == 1);
    CHECK(p.config_files[0] == cfg.string());
  }
  // Two config files: the later one wins, flags still win over both.
  auto cfg2 = dir.write("more.json", R"({"momentum": 0.6, "l2": 0.0})");
  auto p = parse({"--config", cfg.string(), "--config", cfg2.string(), "--l2", "1e-4"});
  CHECK(p.options.number("momentum") == 0.6);
  CHECK(p.options.number("l2") == 1e-4);
  CHECK(p.options.integer("train-epochs") == 9);
}

TEST_CASE("options config keys accept dashes and underscores alike") {
  TempDir dir("cli_options");
  ResolvedOptions a(train_options()), b(train_options());
  apply_config_text(a, R"({"inc_lr": 0.002, "freeze_below_layer": "end_features.0.conv",
                           "latent_layer_num": 17, "refresh_latents": true})", "a.json");
  apply_config_text(b, R"({"inc-lr": 0.002, "freeze-below-layer": "end_features.0.conv",
                           "latent-layer-num": 17, "refresh-latents": true})", "b.json");
  CHECK(a.to_json() == b.to_json());
  CHECK(a.number("inc-lr") == 0.002);
  CHECK(a.str("freeze-below-layer") == "end_features.0.conv");
  // An integral float feeds an int option; an int feeds a double option; comments allowed.
  ResolvedOptions c(train_options());
  apply_config_text(c, "{\n // tuned\n \"rm_sz\": 1500.0, \"lr\": 1}", "config file c.json");
  CHECK(c.integer("rm-sz") == 1500);
  CHECK(c.number("lr") == 1.0);
  // Both spellings of one option in one file: refused, and nothing from the file applied.
  ResolvedOptions d(train_options());
  auto both = [&] {
    apply_config_text(d, R"({"lr": 0.5, "inc_lr": 1, "inc-lr": 2})", "config file d.json");
  };
  CHECK(error_of(both) ==
        "[ar1] config file d.json: inc-lr is given twice, as \"inc_lr\" and \"inc-lr\"");
  CHECK(d.number("lr") == 0.01);
}

TEST_CASE("options unknown flags and keys suggest the nearest name") {
  CHECK(error_of([] { parse({"--inc-lrr", "1"}); }) ==
        "[ar1] unknown option --inc-lrr; did you mean --inc-lr?");
  CHECK(error_of([] { parse({"--momentun", "0.9"}); }) ==
        "[ar1] unknown option --momentun; did you mean --momentum?");
  // Swapped letters cost one edit (Damerau).
  CHECK(error_of([] { parse({"--rm-zs", "10"}); }) ==
        "[ar1] unknown option --rm-zs; did you mean --rm-sz?");
  CHECK(error_of([] { parse({"--trainepochs", "3"}); }) ==
        "[ar1] unknown option --trainepochs; did you mean --train-epochs?");
  // A word of several names: all of them.
  CHECK(error_of([] { parse({"--epochs", "3"}); }) ==
        "[ar1] unknown option --epochs; did you mean --train-epochs or --first-epochs?");
  CHECK(error_of([] { parse({"--zzzzzzzz", "3"}); }) ==
        "[ar1] unknown option --zzzzzzzz; run `ar1 train --help` for the list");
  CHECK(error_of([] { parse({"-lr", "3"}); }) == "[ar1] unknown option -lr; did you mean --lr?");
  CHECK(error_of([] { parse({"--no-lr"}); }) ==
        "[ar1] --no-lr: --lr is not a yes/no option; give it a value: --lr VALUE");
  CHECK(error_of([] { parse({"--no-freeze-norm=1"}); }) ==
        "[ar1] --no-freeze-norm takes no value; write --freeze-norm=1 instead");
  CHECK(error_of([] { parse({"stray"}); }) ==
        "[ar1] unexpected argument 'stray': options are written --name value; run `ar1 train "
        "--help` for the list");
  // Config keys: suggested in the spelling the file used.
  ResolvedOptions o(train_options());
  CHECK(error_of([&] { apply_config_text(o, R"({"inc_lrr": 1})", "config file cfg.json"); }) ==
        "[ar1] config file cfg.json: unknown key \"inc_lrr\"; did you mean inc_lr?");
  CHECK(error_of([&] { apply_config_text(o, R"({"inc-lrr": 1})", "config file cfg.json"); }) ==
        "[ar1] config file cfg.json: unknown key \"inc-lrr\"; did you mean inc-lr?");
  // Other libraries' names for an option.
  CHECK(error_of([&] { apply_config_text(o, R"({"learning_rate": 1})", "config"); }) ==
        "[ar1] config: unknown key \"learning_rate\"; did you mean lr?");
  CHECK(error_of([] { parse({"--batch-size", "3"}); }) ==
        "[ar1] unknown option --batch-size; did you mean --train-mb-size?");
  CHECK(error_of([&] { apply_config_text(o, R"({"weight_decay": 1})", "config"); }) ==
        "[ar1] config: unknown key \"weight_decay\"; did you mean l2?");

  CHECK(edit_distance("inc-lr", "inc-lr") == 0);
  CHECK(edit_distance("ab", "ba") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(suggest(train_options(), "devise") == std::vector<std::string>{"device"});
  CHECK(suggest(train_options(), "qqqqqqqqqq").empty());
}

TEST_CASE("options missing values") {
  CHECK(error_of([] { parse({"--lr"}); }) ==
        "[ar1] --lr needs a value: a number (--lr VALUE or --lr=VALUE)");
  CHECK(error_of([] { parse({"--lr", "--momentum", "0.5"}); }) ==
        "[ar1] --lr needs a value: a number (--lr VALUE or --lr=VALUE)");
  CHECK(error_of([] { parse({"--device"}); }) ==
        "[ar1] --device needs a value: one of cpu, cuda, cuda:N (--device VALUE or --device=VALUE)");
  CHECK(error_of([] { parse({"--config"}); }) ==
        "[ar1] --config needs a value: a JSON file (--config VALUE or --config=VALUE)");
}

TEST_CASE("options device takes cpu, cuda and cuda:N") {
  CHECK(parse({"--device", "cuda:1"}).options.str("device") == "cuda:1");
  CHECK(parse({"--device=cuda"}).options.str("device") == "cuda");
  for (const char* bad : {"cuda:", "cpu:1", "cuda:-1", "cuda:1x", "cuda:123456"}) {
    CAPTURE(bad);
    CHECK(error_of([&] { parse({"--device", bad}); }).find("must be one of cpu, cuda, cuda:N") !=
          std::string::npos);
  }
}

TEST_CASE("options wrong types, enum values and bounds") {
  CHECK(error_of([] { parse({"--device", "gpu"}); }) ==
        "[ar1] --device must be one of cpu, cuda, cuda:N; got gpu");
  CHECK(error_of([] { parse({"--device", "cdua"}); }) ==
        "[ar1] --device must be one of cpu, cuda, cuda:N; got cdua (did you mean cuda?)");
  CHECK(error_of([] { parse({"--lr", "abc"}); }) == "[ar1] --lr expects a number; got abc");
  CHECK(error_of([] { parse({"--lr", "0.1x"}); }) == "[ar1] --lr expects a number; got 0.1x");
  CHECK(error_of([] { parse({"--lr", "nan"}); }) ==
        "[ar1] --lr expects a finite number; got nan");
  CHECK(error_of([] { parse({"--rm-sz", "1.5"}); }) ==
        "[ar1] --rm-sz expects a whole number; got 1.5");
  CHECK(error_of([] { parse({"--rm-sz="}); }) ==
        "[ar1] --rm-sz expects a whole number; got an empty value");
  CHECK(error_of([] { parse({"--rm-sz", "-3"}); }) == "[ar1] --rm-sz must be at least 0; got -3");
  CHECK(error_of([] { parse({"--momentum", "1.5"}); }) ==
        "[ar1] --momentum must be at most 1; got 1.5");
  CHECK(error_of([] { parse({"--freeze-norm=maybe"}); }) ==
        "[ar1] --freeze-norm expects true or false; got maybe");
  CHECK(error_of([] { parse({"--seed", "99999999999999999999"}); }) ==
        "[ar1] --seed is out of range; got 99999999999999999999");

  ResolvedOptions o(train_options());
  CHECK(error_of([&] { apply_config_text(o, R"({"lr": "abc"})", "config file c.json"); }) ==
        "[ar1] config file c.json: key \"lr\" expects a number; got \"abc\"");
  CHECK(error_of([&] { apply_config_text(o, R"({"device": "gpu"})", "config file c.json"); }) ==
        "[ar1] config file c.json: key \"device\" must be one of cpu, cuda, cuda:N; got \"gpu\"");
  CHECK(error_of([&] { apply_config_text(o, R"({"rm_sz": 12.5})", "config file c.json"); }) ==
        "[ar1] config file c.json: key \"rm_sz\" expects a whole number; got 12.5");
  CHECK(error_of([&] {
          apply_config_text(o, R"({"freeze_norm": "yes"})", "config file c.json");
        }) ==
        "[ar1] config file c.json: key \"freeze_norm\" expects true or false; got \"yes\"");
  CHECK(error_of([&] { apply_config_text(o, R"({"lr": null})", "config file c.json"); }) ==
        "[ar1] config file c.json: key \"lr\" expects a number; got null");
  CHECK(error_of([&] { apply_config_text(o, R"({"weights": ["a"]})", "config file c.json"); }) ==
        "[ar1] config file c.json: key \"weights\" expects text; got [\"a\"]");
  CHECK(error_of([&] { apply_config_text(o, R"([1, 2])", "config file c.json"); }) ==
        "[ar1] config file c.json must hold a JSON object of option names to values, e.g. "
        "{\"inc_lr\": 0.001}; found array");
  // Programmatic sets go through the same checks.
  CHECK(error_of([&] { o.set("device", std::string("tpu")); }) ==
        "[ar1] --device must be one of cpu, cuda, cuda:N; got tpu");
  CHECK(error_of([&] { o.set("rm-sz", 2.5); }) == "[ar1] --rm-sz expects a whole number; got 2.5");
  o.set("lr", std::int64_t{1});
  CHECK(o.number("lr") == 1.0);
}

TEST_CASE("options config file that is missing or not JSON names the file, line and column") {
  TempDir dir("cli_options");
  auto missing = dir.path / "nope.json";
  CHECK(error_of([&] { parse({"--config", missing.string()}); }) ==
        "[ar1] config file " + missing.string() + " does not exist");
  CHECK(error_of([&] { parse({"--config", dir.path.string()}); }) ==
        "[ar1] config file " + dir.path.string() + " is a directory; give a JSON file");

  auto bad = dir.write("bad.json", "{\n  \"lr\": 0.1,\n  \"rm_sz\": ,\n}\n");
  std::string msg = error_of([&] { parse({"--config", bad.string()}); });
  CAPTURE(msg);
  CHECK(msg.rfind("[ar1] config file " + bad.string() + " is not valid JSON: line 3, column 12: ",
                  0) == 0);
  CHECK(msg.find('\n') == std::string::npos);

  auto empty = dir.write("empty.json", "");
  msg = error_of([&] { parse({"--config", empty.string()}); });
  CAPTURE(msg);
  CHECK(msg.rfind("[ar1] config file " + empty.string() + " is not valid JSON: line 1, column 1",
                  0) == 0);

  // A number beyond double's range (tests/fuzz/fuzz_config's finding: nlohmann's out_of_range
  // escaped as another exception).
  auto huge = dir.write("huge.json", "{\"lr\": 5e999}");
  msg = error_of([&] { parse({"--config", huge.string()}); });
  CAPTURE(msg);
  CHECK(msg.rfind("[ar1] config file " + huge.string() + " is not usable JSON: ", 0) == 0);
  CHECK(msg.find("number overflow") != std::string::npos);
  // A bad file applies nothing, so there is no half-configured result to use by mistake.
}

TEST_CASE("options resolved config round trips through JSON") {
  TempDir dir("cli_options");
  auto p = parse({"--lr", "0.0123", "--inc-lr", "4.1e-05", "--freeze-norm", "--replay-dtype",
                  "u8", "--seed", "-7", "--out", "runs/a \"quoted\" dir", "--alpha", "0.5"});
  std::string text = p.options.to_json();
  // Underscore keys, table order, valid JSON.
  auto j = nlohmann::ordered_json::parse(text);
  REQUIRE(j.is_object());
  CHECK(j.begin().key() == "lr");
  CHECK(j["inc_lr"].get<double>() == 4.1e-05);
  CHECK(j["rm_sz"].is_number_integer());
  CHECK(j["freeze_norm"].get<bool>());
  CHECK(j.size() == train_options().options().size());

  auto file = dir.write("config.json", text);
  ResolvedOptions back = read_config_file(train_options(), file);
  CHECK(back.to_json() == text);
  for (std::size_t i = 0; i < back.entries().size(); ++i) {
    CAPTURE(back.entries()[i].spec.name);
    CHECK(back.entries()[i].value == p.options.entries()[i].value);
  }
  // Also readable as a --config file.
  auto again = parse({"--config", file.string()});
  CHECK(again.options.to_json() == text);
  // Display strings for the report.
  auto strings = p.options.to_strings();
  CHECK(strings.front() == std::pair<std::string, std::string>{"lr", "0.0123"});
}

TEST_CASE("options help lists every option by group and stops parsing") {
  auto table = train_options();
  std::string help = help_text(table);
  CHECK(help.rfind("Usage: ar1 train [options]\n", 0) == 0);
  for (const auto& o : table.options()) {
    CAPTURE(o.name);
    CHECK(help.find("--" + o.name) != std::string::npos);
  }
  CHECK(help.find("--freeze-norm, --no-freeze-norm") != std::string::npos);
  CHECK(help.find("--device cpu|cuda") != std::string::npos);
  CHECK(help.find("4.1e-05)") != std::string::npos);
  CHECK(help.find("AR1 arguments:") < help.find("Run settings:"));
  CHECK(help.find("--config FILE") != std::string::npos);
  for (std::size_t start = 0, end; start < help.size(); start = end + 1) {
    end = help.find('\n', start);
    if (end == std::string::npos) end = help.size();
    CHECK(end - start <= 100);
  }
  // --help wins over anything else, even unknown flags.
  auto p = parse({"--bogus", "--help"});
  CHECK(p.help);
  CHECK(parse({"-h"}).help);
}

TEST_CASE("options table rejects bad specs") {
  OptionTable t = small_table();
  CHECK(error_of([&] { t.add_int("lr", 1, "again", OptionGroup::Ar1); }) ==
        "[ar1] option table: --lr added twice");
  CHECK(error_of([&] { t.add_enum("mode", {"a", "b"}, "c", "x", OptionGroup::Run); }) ==
        "[ar1] option table: default of --mode (Enum) must be one of a, b; got c");
  CHECK(error_of([&] { t.add_bool("config", false, "x", OptionGroup::Run); }) ==
        "[ar1] option table: --config is reserved by the parser");
  auto p = parse_args(small_table(), {"--fast", "--epochs", "3", "--out", "o"});
  CHECK(p.options.flag("fast"));
  CHECK(p.options.integer("epochs") == 3);
  CHECK(error_of([] { parse_args(small_table(), {"--epoch", "3"}); }) ==
        "[ar1] unknown option --epoch; did you mean --epochs?");
  CHECK(error_of([] { parse_args(small_table(), {"--epochs", "0"}); }) ==
        "[ar1] --epochs must be at least 1; got 0");
}
