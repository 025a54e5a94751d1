// The loggers' outputs on a run whose results are known (one-row images, Flatten ->
// Linear(3, 3) with an identity or zero weight, learning rate 0; see metrics_test.cpp):
// CSV headers and rows, JSON lines that parse back to the evaluator's history, the
// .partial file renamed at close, the text logger's plain lines and evaluation table.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "data/scenario.h"
#include "nn/modules/all.h"
#include "strategy/loggers/csv_logger.h"
#include "strategy/loggers/json_lines_logger.h"
#include "strategy/loggers/text_logger.h"
#include "strategy/metrics/evaluation_plugin.h"
#include "strategy/naive.h"
#include "tests/strategy/one_hot_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ar1;
using namespace ar1::strategy;
using namespace ar1::testing;
namespace fs = std::filesystem;

namespace {

using ar1::testing::TempDir;

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(text);
  while (std::getline(in, field, sep)) out.push_back(field);
  if (!text.empty() && text.back() == sep) out.push_back("");
  return out;
}

// Two experiences of 4 images. Under identity T0 is 3/4 right, T1 4/4; under the zero
// weight (class 0 always) T0 2/4, T1 1/4.
struct TwoExperiences {
  data::DatasetPtr ds = one_hot_images({{0, 0}, {1, 1}, {2, 2}, {2, 0},  //
                                        {1, 1}, {2, 2}, {0, 0}, {1, 1}});
  std::vector<data::Experience> stream{data::make_experience(0, ds, range(0, 4)),
                                       data::make_experience(1, ds, range(4, 8))};
};

MetricValue one_value() {
  MetricValue v;
  v.name = "m";
  v.value = 1.0;
  return v;
}

}  // namespace

TEST_CASE("loggers csv files hold one row per epoch and per evaluated experience") {
  TempDir dir("csv");
  TwoExperiences data;
  TinyModel m = tiny_model();
  auto evaluator = default_evaluator();
  auto csv = std::make_shared<CsvLogger>(dir.path / "run");  // created on demand
  evaluator->add_logger(csv);
  Naive strategy(m.module, tiny_options(2, 2, 0), {}, evaluator);
  const fs::path training = dir.path / "run" / "training_results.csv";
  const fs::path eval = dir.path / "run" / "eval_results.csv";

  strategy.train(data.stream[0], Streams{data.stream});
  m.set(false);
  strategy.train(data.stream[1], Streams{data.stream});
  // While the run goes only the .partial files exist.
  CHECK(fs::exists(fs::path(training.string() + ".partial")));
  CHECK_FALSE(fs::exists(training));
  CHECK_FALSE(fs::exists(eval));
  csv->close();
  CHECK_FALSE(fs::exists(fs::path(training.string() + ".partial")));
  CHECK_FALSE(fs::exists(fs::path(eval.string() + ".partial")));

  const auto train_lines = read_lines(training);
  REQUIRE(train_lines.size() == 5);
  CHECK(train_lines[0] == "training_exp,epoch,accuracy,loss,seconds");
  // (experience, epoch, accuracy): experience 0 under identity 3/4, experience 1 under zero 1/4.
  const std::tuple<std::string, std::string, double> rows[] = {
      {"0", "0", 0.75}, {"0", "1", 0.75}, {"1", "0", 0.25}, {"1", "1", 0.25}};
  const double loss_identity = std::log(std::exp(1.0) + 2.0) - 0.75;
  for (size_t i = 0; i < 4; ++i) {
    const auto f = split(train_lines[i + 1], ',');
    REQUIRE(f.size() == 5);
    CHECK(f[0] == std::get<0>(rows[i]));
    CHECK(f[1] == std::get<1>(rows[i]));
    CHECK(std::stod(f[2]) == std::get<2>(rows[i]));
    CHECK(std::stod(f[3]) ==
          doctest::Approx(i < 2 ? loss_identity : std::log(3.0)).epsilon(1e-5));
    CHECK(std::stod(f[4]) > 0.0);
  }

  const auto eval_lines = read_lines(eval);
  REQUIRE(eval_lines.size() == 5);
  CHECK(eval_lines[0] == "eval_exp,training_exp,accuracy,loss,forgetting");
  // After experience 0 (identity): T0 0.75, T1 1; no forgetting yet.
  CHECK(split(eval_lines[1], ',')[0] == "0");
  CHECK(split(eval_lines[1], ',')[1] == "0");
  CHECK(split(eval_lines[1], ',')[2] == "0.75");
  CHECK(split(eval_lines[1], ',')[4] == "");
  CHECK(split(eval_lines[2], ',')[0] == "1");
  CHECK(split(eval_lines[2], ',')[2] == "1");
  // After experience 1 (zero weight): T0 0.5, forgotten 0.75 - 0.5; T1 0.25, first look.
  const auto t0 = split(eval_lines[3], ',');
  REQUIRE(t0.size() == 5);
  CHECK(t0[0] == "0");
  CHECK(t0[1] == "1");
  CHECK(t0[2] == "0.5");
  CHECK(std::stod(t0[3]) == doctest::Approx(std::log(3.0)).epsilon(1e-5));
  CHECK(t0[4] == "0.25");
  const auto t1 = split(eval_lines[4], ',');
  CHECK(t1[0] == "1");
  CHECK(t1[1] == "1");
  CHECK(t1[2] == "0.25");
  CHECK(t1[4] == "");
}

TEST_CASE("loggers json lines parse back to the evaluator history") {
  TempDir dir("json");
  TwoExperiences data;
  TinyModel m = tiny_model();
  auto evaluator = default_evaluator();
  const fs::path path = dir.path / "metrics.jsonl";
  auto json = std::make_shared<JsonLinesLogger>(path);
  evaluator->add_logger(json);
  Naive strategy(m.module, tiny_options(2, 1, 0), {}, evaluator);
  strategy.train(data.stream, Streams{data.stream});
  CHECK(fs::exists(fs::path(path.string() + ".partial")));
  CHECK_FALSE(fs::exists(path));
  json->close();
  json->close();  // a second close does nothing
  CHECK_FALSE(fs::exists(fs::path(path.string() + ".partial")));

  const auto lines = read_lines(path);
  const auto& history = evaluator->history();
  REQUIRE(lines.size() == history.size());
  bool saw_matrix = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto j = nlohmann::json::parse(lines[i]);
    INFO(lines[i]);
    CHECK(j.size() == 3);
    CHECK(j.at("name").get<std::string>() == history[i].name);
    CHECK(j.at("x").get<int64_t>() == history[i].x);
    if (history[i].matrix.empty()) {
      CHECK(j.at("value").get<double>() == history[i].value);  // shortest round-trip text
    } else {
      saw_matrix = true;
      CHECK(j.at("value").get<std::vector<std::vector<double>>>() == history[i].matrix);
    }
  }
  CHECK(saw_matrix);
}

TEST_CASE("loggers json escaping and number formatting") {
  MetricValue v;
  v.name = std::string("a\"b\\c\n\t\x01/\xc3\xa9");  // quote, backslash, controls, UTF-8 é
  v.value = 0.1;
  v.x = 42;
  const std::string line = to_json_line(v);
  CHECK(line == "{\"name\":\"a\\\"b\\\\c\\n\\t\\u0001/\xc3\xa9\",\"value\":0.1,\"x\":42}");
  CHECK(nlohmann::json::parse(line).at("name").get<std::string>() == v.name);

  v.name = "n";
  v.value = std::numeric_limits<double>::quiet_NaN();
  CHECK(to_json_line(v) == "{\"name\":\"n\",\"value\":null,\"x\":42}");
  v.value = -std::numeric_limits<double>::infinity();
  CHECK(to_json_line(v) == "{\"name\":\"n\",\"value\":null,\"x\":42}");
  v.value = 2.0;
  CHECK(to_json_line(v) == "{\"name\":\"n\",\"value\":2,\"x\":42}");
  v.value = 1.0 / 3.0;
  CHECK(nlohmann::json::parse(to_json_line(v)).at("value").get<double>() == 1.0 / 3.0);
  v.value = 1e-300;
  CHECK(nlohmann::json::parse(to_json_line(v)).at("value").get<double>() == 1e-300);
  v.matrix = {{1, 2}, {3, std::nan("")}};
  CHECK(to_json_line(v) == "{\"name\":\"n\",\"value\":[[1,2],[3,null]],\"x\":42}");
}

TEST_CASE("loggers partial files are renamed by the destructor but not when a run fails") {
  TempDir dir("partial");
  const fs::path done = dir.path / "done.jsonl";
  const fs::path failed = dir.path / "failed.jsonl";
  {
    JsonLinesLogger logger(done);
    logger.log(one_value());
  }
  CHECK(fs::exists(done));
  CHECK_FALSE(fs::exists(fs::path(done.string() + ".partial")));
  CHECK(read_lines(done) == std::vector<std::string>{"{\"name\":\"m\",\"value\":1,\"x\":0}"});

  try {
    JsonLinesLogger logger(failed);
    logger.log(one_value());
    throw std::runtime_error("the run failed");
  } catch (const std::runtime_error&) {
  }
  CHECK_FALSE(fs::exists(failed));
  CHECK(fs::exists(fs::path(failed.string() + ".partial")));

  // A complete file from an earlier run is removed when a new run starts writing.
  {
    JsonLinesLogger logger(done);
    CHECK_FALSE(fs::exists(done));
  }
  CHECK(fs::exists(done));
  CHECK(read_lines(done).empty());
}

TEST_CASE("loggers name the path when a file cannot be opened") {
  TempDir dir("errors");
  const fs::path missing = dir.path / "no_such_dir" / "m.jsonl";
  CHECK_THROWS_WITH_AS(JsonLinesLogger{missing},
                       doctest::Contains((missing.string() + ".partial").c_str()), Error);
  CHECK_THROWS_WITH_AS(JsonLinesLogger{missing}, doctest::Contains("[json_lines_logger]"), Error);
  // A file where the CSV directory should be.
  const fs::path file = dir.path / "a_file";
  std::ofstream(file) << "x";
  CHECK_THROWS_WITH_AS(CsvLogger{file}, doctest::Contains(file.string().c_str()), Error);
  CHECK_THROWS_WITH_AS(CsvLogger{file / "sub"}, doctest::Contains("[csv_logger]"), Error);
}

TEST_CASE("loggers text plain lines per epoch and a table per evaluation") {
  TwoExperiences data;
  TinyModel m = tiny_model();
  auto evaluator = default_evaluator();
  std::ostringstream out;
  evaluator->add_logger(std::make_shared<TextLogger>(out, false));
  Naive strategy(m.module, tiny_options(2, 2, 0), {}, evaluator);
  strategy.train(data.stream[0], Streams{data.stream});
  m.set(false);
  strategy.train(data.stream[1], Streams{data.stream});

  const auto lines = split(out.str(), '\n');
  CHECK(out.str().find('\r') == std::string::npos);
  // Epoch lines: "exp 0 epoch 1/2 loss 0.862... acc 0.7500 time 0.00s".
  std::vector<std::string> epochs;
  for (const auto& l : lines) {
    if (l.rfind("exp ", 0) == 0) epochs.push_back(l);
  }
  REQUIRE(epochs.size() == 4);
  char expected[64];
  std::snprintf(expected, sizeof expected, "exp 0 epoch 1/2 loss %.6f acc 0.7500 time ",
                std::log(std::exp(1.0) + 2.0) - 0.75);
  CHECK(epochs[0].rfind(expected, 0) == 0);
  CHECK(epochs[1].rfind("exp 0 epoch 2/2 loss ", 0) == 0);
  std::snprintf(expected, sizeof expected, "exp 1 epoch 2/2 loss %.6f acc 0.2500 time ",
                std::log(3.0));
  CHECK(epochs[3].rfind(expected, 0) == 0);
  CHECK(epochs[3].back() == 's');

  // The second evaluation's table.
  const std::string table =
      "eval test_stream after training exp 1\n"
      "  exp  accuracy      loss  forgetting\n";
  const size_t at = out.str().find(table);
  REQUIRE(at != std::string::npos);
  std::snprintf(expected, sizeof expected, "%.6f", std::log(3.0));
  const std::string log3 = expected;
  const std::string rows = "    0    0.5000  " + log3 + "      0.2500\n" +  //
                           "    1    0.2500  " + log3 + "           -\n" +
                           "  stream accuracy 0.3750  loss " + log3 + "  forgetting 0.2500\n";
  CHECK(out.str().substr(at + table.size()) == rows);
  CHECK(out.str().find("eval test_stream after training exp 0\n") != std::string::npos);
}

TEST_CASE("loggers text interactive bar redraws in place") {
  TwoExperiences data;
  TinyModel m = tiny_model();
  auto evaluator = default_evaluator();
  std::ostringstream out;
  evaluator->add_logger(std::make_shared<TextLogger>(out, true));
  Naive strategy(m.module, tiny_options(1, 1, -1), {}, evaluator);
  strategy.train(data.stream[0]);
  const std::string text = out.str();
  // The bar starts empty and ends full with the epoch's values, then a newline.
  CHECK(text.rfind("\rexp 0 epoch 1/1 [--------------------] 0/4 loss - acc -", 0) == 0);
  const size_t last = text.rfind('\r');
  REQUIRE(last != std::string::npos);
  const std::string final_bar = text.substr(last);
  CHECK(final_bar.rfind("\rexp 0 epoch 1/1 [####################] 4/4 loss ", 0) == 0);
  CHECK(final_bar.find("acc 0.7500 time ") != std::string::npos);
  CHECK(final_bar.back() == '\n');
  // At most one redraw per 100 ms: this fast epoch draws far fewer than one per iteration
  // plus the start and the end.
  CHECK(std::count(text.begin(), text.end(), '\r') <= 4);
  CHECK(stdout_is_terminal() == static_cast<bool>(::isatty(1)));
}
