#include "tools/commands/run_record.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ar1::cli {

using nlohmann::json;

namespace {
// NaN is not JSON: null stands for "not measured".
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double number_of(const json& j) { return j.is_null() ? kNotEvaluated : j.get<double>(); }

json matrix_json(const std::vector<std::vector<double>>& m) {
  json out = json::array();
  for (const auto& row : m) {
    json r = json::array();
    for (double v : row) r.push_back(number(v));
    out.push_back(r);
  }
  return out;
}

std::vector<std::vector<double>> matrix_of(const json& j) {
  std::vector<std::vector<double>> out;
  for (const json& r : j) {
    std::vector<double> row;
    for (const json& v : r) row.push_back(number_of(v));
    out.push_back(std::move(row));
  }
  return out;
}

json value_json(const strategy::MetricValue& v) {
  json j = {{"name", v.name}, {"value", number(v.value)}, {"x", v.x}, {"trained", v.trained}};
  if (!v.matrix.empty()) j["matrix"] = v.matrix;
  return j;
}

// Runs `read` on checkpoint metadata; nlohmann's exceptions (bad JSON, a missing key, a wrong
// type) become an ar1::Error that names the metadata entry.
template <class Read>
auto read_metadata(const char* key, Read read) {
  try {
    return read();
  } catch (const json::exception& e) {
    AR1_FAIL("[ar1] the checkpoint's \"", key, "\" metadata is not what ar1 writes (", e.what(),
             "); resume from a checkpoint written by ar1 train, or start a new run");
  }
}
}  // namespace

std::string history_to_json(const std::vector<strategy::MetricValue>& history) {
  json a = json::array();
  for (const auto& v : history) a.push_back(value_json(v));
  return a.dump();
}

std::vector<strategy::MetricValue> history_from_json(const std::string& text) {
  return read_metadata("history", [&] {
    std::vector<strategy::MetricValue> out;
    for (const json& j : json::parse(text)) {
      strategy::MetricValue v;
      v.name = j.at("name").get<std::string>();
      v.value = number_of(j.at("value"));
      v.x = j.at("x").get<int64_t>();
      v.trained = j.at("trained").get<int64_t>();
      if (j.contains("matrix")) v.matrix = j.at("matrix").get<std::vector<std::vector<double>>>();
      out.push_back(std::move(v));
    }
    return out;
  });
}

std::string history_to_json_lines(const std::vector<strategy::MetricValue>& history) {
  std::string out;
  for (const auto& v : history) out += value_json(v).dump() + "\n";
  return out;
}

std::string run_to_json(const StrategyRun& run) {
  json e = json::array();
  for (const auto& s : run.experiences) {
    e.push_back({number(s.stream_accuracy), number(s.loss), number(s.seconds), number(s.peak_mib)});
  }
  const json m = matrix_json(run.accuracy);
  json j{{"name", run.name}, {"experiences", e}, {"accuracy", m}};
  if (!run.class_accuracy.empty()) j["class_accuracy"] = matrix_json(run.class_accuracy);
  if (!run.confusion.empty()) j["confusion"] = run.confusion;
  return j.dump();
}

StrategyRun run_from_json(const std::string& text) {
  return read_metadata("run", [&] {
    const json j = json::parse(text);
    StrategyRun run;
    run.name = j.at("name").get<std::string>();
    for (const json& e : j.at("experiences")) {
      run.experiences.push_back(
          {number_of(e[0]), number_of(e[1]), number_of(e[2]), number_of(e[3])});
    }
    run.accuracy = matrix_of(j.at("accuracy"));
    // Absent in checkpoints of earlier versions.
    if (j.contains("class_accuracy")) run.class_accuracy = matrix_of(j.at("class_accuracy"));
    if (j.contains("confusion")) run.confusion = matrix_of(j.at("confusion"));
    return run;
  });
}

std::vector<double> class_accuracy_of(const std::vector<std::vector<double>>& confusion) {
  std::vector<double> out;
  for (size_t c = 0; c < confusion.size(); ++c) {
    double total = 0;
    for (double v : confusion[c]) total += v;
    out.push_back(total > 0 && c < confusion[c].size() ? confusion[c][c] / total : kNotEvaluated);
  }
  return out;
}

std::string results_to_json(const RunResults& results) {
  json runs = json::array();
  for (const StrategyRun& r : results.runs) runs.push_back(json::parse(run_to_json(r)));
  return json{{"finished", results.finished}, {"runs", runs}}.dump(1) + "\n";
}

RunResults results_from_json(const std::string& text, const std::string& source) {
  try {
    const json j = json::parse(text);
    RunResults out;
    out.finished = j.at("finished").get<bool>();
    for (const json& r : j.at("runs")) out.runs.push_back(run_from_json(r.dump()));
    return out;
  } catch (const json::exception& e) {
    AR1_FAIL("[ar1] ", source, " is not a results.json ar1 train wrote (", e.what(),
             "): run the experiment again or leave that directory out");
  } catch (const Error& e) {
    AR1_FAIL("[ar1] ", source, ": ", e.what());
  }
}

}  // namespace ar1::cli

namespace ar1::cli {

namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// "…/Exp003" -> 3; -1 without an Exp part.
int64_t experience_of(const std::string& name) {
  const auto at = name.rfind("/Exp");
  return at == std::string::npos ? -1 : std::stoll(name.substr(at + 4));
}

std::string cell(double v) {
  if (!std::isfinite(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

std::string training_csv(const std::vector<strategy::MetricValue>& history) {
  struct Row {
    int64_t exp, epoch;
    double acc = kNotEvaluated, loss = kNotEvaluated, seconds = kNotEvaluated;
  };
  std::vector<Row> rows;
  for (const auto& v : history) {
    if (starts_with(v.name, "Top1_Acc_Epoch/")) {
      const int64_t epoch = !rows.empty() && rows.back().exp == v.trained ? rows.back().epoch + 1 : 0;
      rows.push_back({v.trained, epoch});
      rows.back().acc = v.value;
    } else if (!rows.empty() && starts_with(v.name, "Loss_Epoch/")) {
      rows.back().loss = v.value;
    } else if (!rows.empty() && starts_with(v.name, "Time_Epoch/")) {
      rows.back().seconds = v.value;
    }
  }
  std::string out = "training_exp,epoch,accuracy,loss,seconds\n";
  for (const Row& r : rows) {
    out += std::to_string(r.exp) + "," + std::to_string(r.epoch) + "," + cell(r.acc) + "," +
           cell(r.loss) + "," + cell(r.seconds) + "\n";
  }
  return out;
}

std::string eval_csv(const std::vector<strategy::MetricValue>& history) {
  struct Row {
    int64_t eval_exp, training_exp;
    double acc = kNotEvaluated, loss = kNotEvaluated, forgetting = kNotEvaluated;
  };
  std::vector<Row> rows;
  auto find = [&rows](int64_t j, int64_t k) -> Row* {
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      if (it->eval_exp == j && it->training_exp == k) return &*it;
    }
    return nullptr;
  };
  for (const auto& v : history) {
    const int64_t j = experience_of(v.name);
    const int64_t k = v.trained - 1;
    if (starts_with(v.name, "Top1_Acc_Exp/eval_phase/")) {
      rows.push_back({j, k});
      rows.back().acc = v.value;
    } else if (starts_with(v.name, "Loss_Exp/eval_phase/")) {
      if (Row* r = find(j, k)) r->loss = v.value;
    } else if (starts_with(v.name, "ExperienceForgetting/")) {
      if (Row* r = find(j, k)) r->forgetting = v.value;
    }
  }
  std::string out = "eval_exp,training_exp,accuracy,loss,forgetting\n";
  for (const Row& r : rows) {
    out += std::to_string(r.eval_exp) + "," + std::to_string(r.training_exp) + "," +
           cell(r.acc) + "," + cell(r.loss) + "," + cell(r.forgetting) + "\n";
  }
  return out;
}

}  // namespace ar1::cli
