// `ar1 train`: an AR1 run (and optionally a baseline) written to a run directory:
//   config.json             the resolved options
//   checkpoint.safetensors  everything needed to continue, rewritten after every experience
//   metrics.jsonl           every metric value; training_results.csv, eval_results.csv
//   results.json            per-experience figures of each strategy, and "finished"
//   report.html             plots of accuracy, the accuracy matrix, loss, time and memory
//   manifest.json           version, commit, build, machine, config and dataset fingerprints
// Every file is written to a temporary name and renamed into place.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <cstdlib>
#include <iostream>
#include <limits>

#include "core/io/atomic_file.h"
#include "kernels/device.h"
#include "kernels/cpu_kernels.h"
#include "kernels/precision.h"
#include "kernels/threading.h"
#include "run/setup.h"
#include "run/train_options.h"
#include "strategy/checkpoint.h"
#include "strategy/loggers/text_logger.h"
#include "strategy/metrics/standard_metrics.h"
#include "strategy/naive.h"
#include "strategy/nonfinite_guard.h"
#include "tools/commands/commands.h"
#include "tools/commands/interrupts.h"
#include "tools/commands/run_manifest.h"
#include "tools/commands/run_record.h"

namespace ar1::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStream = "test_stream";

std::string now_text(const char* format) {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, format, std::localtime(&t));
  return buf;
}

double metric_or_nan(const strategy::EvaluationPlugin& ev, const std::string& name) {
  const strategy::MetricValue* v = ev.last(name);
  return v != nullptr ? v->value : kNotEvaluated;
}

// Figures of training experience k, read from the evaluator after its evaluation.
ExperienceStats stats_after(const strategy::EvaluationPlugin& ev, int64_t k) {
  ExperienceStats s;
  s.stream_accuracy = metric_or_nan(ev, strategy::metric_name("Top1_Acc_Stream", true, kStream));
  s.loss = metric_or_nan(ev, strategy::metric_name("Loss_Stream", true, kStream));
  s.seconds = metric_or_nan(ev, strategy::metric_name("Time_Exp", false, "train_stream", k));
  s.peak_mib = metric_or_nan(ev, strategy::metric_name("MaxRAMUsage_Experience", false,
                                                       "train_stream", k));
  return s;
}

// The stream's confusion matrix after the evaluation that just ran: per-class accuracy into
// the run, and the matrix itself as the latest (the final model's, once the run ends).
void record_classes(const strategy::EvaluationPlugin& ev, StrategyRun& run) {
  const strategy::MetricValue* cm = ev.last("ConfusionMatrix_Stream/eval_phase/" + std::string(kStream));
  if (cm == nullptr) return;
  run.class_accuracy.push_back(class_accuracy_of(cm->matrix));
  run.confusion = cm->matrix;
}

std::vector<double> accuracy_row(const strategy::EvaluationPlugin& ev, size_t test_exps) {
  std::vector<double> row;
  for (size_t j = 0; j < test_exps; ++j) {
    row.push_back(metric_or_nan(
        ev, strategy::metric_name("Top1_Acc_Exp", true, kStream, static_cast<int64_t>(j))));
  }
  return row;
}

// Test-only hook: AR1_TEST_NONFINITE_AT=N puts a NaN into the first gradient after the
// backward of training iteration N (counted over the run), so the tests can see what a
// numerical fault does to a run.
struct NonFiniteInjector final : strategy::Plugin {
  int64_t at = -1;
  bool graph_safe() const override { return false; }
  void after_backward(strategy::SupervisedTemplate& s) override {
    if (s.clock().train_iterations != at) return;
    for (const auto& [name, p] : s.model().named_parameters()) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      const Tensor nan = Tensor::full({1}, std::numeric_limits<float>::quiet_NaN(), g.device());
      kernels::copy_bytes(g.raw_data(), g.device(), nan.raw_data(), nan.device(), sizeof(float));
      return;
    }
  }
};

std::vector<std::shared_ptr<strategy::Plugin>> run_plugins(const run::ResolvedOptions& o) {
  std::vector<std::shared_ptr<strategy::Plugin>> plugins;
  if (const char* at = std::getenv("AR1_TEST_NONFINITE_AT")) {
    auto injector = std::make_shared<NonFiniteInjector>();
    injector->at = std::atoll(at);
    plugins.push_back(injector);
  }
  plugins.push_back(std::make_shared<strategy::NonFiniteGuard>(
      strategy::parse_nonfinite_policy(o.str("on-nonfinite"))));
  plugins.push_back(InterruptWatch::plugin());
  return plugins;
}

std::shared_ptr<strategy::EvaluationPlugin> console_evaluator() {
  auto ev = strategy::default_evaluator();
  ev->add_logger(std::make_shared<strategy::TextLogger>(std::cout, strategy::stdout_is_terminal()));
  return ev;
}

struct RunDirectory {
  fs::path dir;
  long long num_classes = 0;
  void write_outputs(const run::ResolvedOptions& o, const std::vector<StrategyRun>& runs,
                     const strategy::EvaluationPlugin& ev, bool finished = false) const {
    write_file_atomically(dir / "results.json", results_to_json({finished, runs}), "ar1");
    write_file_atomically(dir / "metrics.jsonl", history_to_json_lines(ev.history()), "ar1");
    write_file_atomically(dir / "training_results.csv", training_csv(ev.history()), "ar1");
    write_file_atomically(dir / "eval_results.csv", eval_csv(ev.history()), "ar1");
    RunReport report;
    report.title = "ar1 run " + dir.filename().string();
    report.date = now_text("%Y-%m-%d %H:%M");
    report.config = o.to_strings();
    report.runs = runs;
    report.num_classes = num_classes;
    write_report(dir / "report.html", report);
  }
};

// Flags that may change on --resume: how the run uses this machine, not what it computes; and
// the CPU kernel set, so that a run begun on oneDNN can go on where there is none (its bits
// then differ from an uninterrupted run's).
bool allowed_on_resume(const std::string& name) {
  return name == "resume" || name == "threads" || name == "workers" || name == "stop-after" ||
         name == "cpu-kernels";
}

run::ResolvedOptions resolve(const run::OptionTable& table, const run::ParsedArgs& parsed) {
  const std::string resume = parsed.options.str("resume");
  if (resume.empty()) return parsed.options;
  AR1_CHECK(fs::exists(fs::path(resume) / "config.json"), "[ar1] --resume ", resume,
            " is not a run directory (no config.json); pass the --out of an earlier run");
  for (const auto& e : parsed.options.entries()) {
    AR1_CHECK(parsed.options.origin(e.spec.name) != run::Origin::Flag ||
                  allowed_on_resume(e.spec.name),
              "[ar1] --resume continues a run with its saved config; drop --", e.spec.name,
              " (only --threads, --workers, --stop-after and --cpu-kernels may change)");
  }
  run::ResolvedOptions o = run::read_config_file(table, fs::path(resume) / "config.json");
  o.set("resume", resume);
  o.set("threads", parsed.options.value("threads"));
  o.set("workers", parsed.options.value("workers"));
  o.set("stop-after", parsed.options.value("stop-after"));
  if (parsed.options.origin("cpu-kernels") == run::Origin::Flag) {
    o.set("cpu-kernels", parsed.options.value("cpu-kernels"));
  }
  return o;
}

void print_summary(const std::vector<StrategyRun>& runs) {
  std::printf("\n%-8s", "exp");
  for (const auto& r : runs) std::printf("  %10s acc", r.name.c_str());
  std::printf("\n");
  size_t n = 0;
  for (const auto& r : runs) n = std::max(n, r.experiences.size());
  for (size_t k = 0; k < n; ++k) {
    std::printf("%-8zu", k);
    for (const auto& r : runs) {
      const double a = k < r.experiences.size() ? r.experiences[k].stream_accuracy : kNotEvaluated;
      std::printf("  %14.4f", a);
    }
    std::printf("\n");
  }
}

StrategyRun run_baseline(const run::ResolvedOptions& o, const data::Benchmark& b) {
  std::printf("\n== baseline: naive fine-tuning on the same scenario\n");
  strategy::TemplateOptions t;
  t.train_mb_size = o.integer("train-mb-size");
  t.eval_mb_size = o.integer("eval-mb-size");
  t.train_epochs = o.integer("train-epochs");
  t.seed = static_cast<uint64_t>(o.integer("seed"));
  t.num_workers = static_cast<int>(o.integer("workers"));
  t.train_pipeline = t.eval_pipeline = run::make_pipeline(o);
  t.sgd = {o.number("lr"), o.number("momentum"), o.number("l2")};
  auto ev = console_evaluator();
  strategy::Naive naive(run::make_model(o, b.num_classes), t, {}, ev);
  StrategyRun run{"Naive", {}, {}, {}, {}};
  for (size_t k = 0; k < b.train_stream.size(); ++k) {
    naive.train(b.train_stream[k]);
    naive.eval(b.test_stream, kStream);
    run.experiences.push_back(stats_after(*ev, static_cast<int64_t>(k)));
    run.accuracy.push_back(accuracy_row(*ev, b.test_stream.size()));
    record_classes(*ev, run);
  }
  return run;
}

}  // namespace

int train_command(const std::vector<std::string>& args) {
  const run::OptionTable table = run::train_options();
  const run::ParsedArgs parsed = run::parse_args(table, args);
  if (parsed.help) {
    std::cout << run::help_text(table);
    return 0;
  }
  const run::ResolvedOptions o = resolve(table, parsed);
  const bool resuming = !o.str("resume").empty();
  kernels::set_num_threads(static_cast<int>(o.integer("threads")));
  const kernels::Precision precision = kernels::parse_precision(o.str("precision"));
  AR1_CHECK(precision == kernels::Precision::f32 || o.str("device") == "cpu",
            "[ar1] --precision bf16 runs on the CPU only: use --precision f32 with --device ",
            o.str("device"));
  kernels::set_conv_precision(precision);  // names the reason where this CPU cannot
  kernels::set_cpu_kernels(kernels::parse_cpu_kernels(o.str("cpu-kernels")));
  strategy::AR1Options ar1_options = run::make_ar1_options(o);  // checks the device first

  RunDirectory run_dir;
  run_dir.dir = resuming ? fs::path(o.str("resume"))
                         : fs::path(o.str("out").empty() ? "runs/" + now_text("%Y%m%d-%H%M%S")
                                                         : o.str("out"));
  const fs::path checkpoint = run_dir.dir / "checkpoint.safetensors";
  if (!resuming) {
    AR1_CHECK(!fs::exists(checkpoint), "[ar1] ", run_dir.dir.string(), " already holds a run; "
              "continue it with --resume ", run_dir.dir.string(), " or pick another --out");
  }
  const data::Benchmark b = run::make_benchmark(o);
  run_dir.num_classes = b.num_classes;
  auto model = run::make_model(o, b.num_classes);
  auto ev = console_evaluator();
  strategy::AR1 ar1(model, ar1_options, run_plugins(o), ev);

  std::vector<StrategyRun> runs{{"AR1", {}, {}, {}, {}}};
  size_t start = 0;
  if (resuming) {
    AR1_CHECK(fs::exists(checkpoint), "[ar1] ", run_dir.dir.string(), " has no checkpoint yet "
              "(it stopped during the first experience); start it again without --resume");
    const strategy::CheckpointMetadata meta = strategy::load_checkpoint(checkpoint, ar1);
    start = static_cast<size_t>(std::stoll(meta.at("next_experience")));
    ev->restore_history(history_from_json(meta.at("history")));
    runs[0] = run_from_json(meta.at("run"));
    std::printf("resuming %s at experience %zu of %zu\n", run_dir.dir.string().c_str(), start,
                b.train_stream.size());
  } else {
    fs::create_directories(run_dir.dir);
    write_file_atomically(run_dir.dir / "config.json", o.to_json() + "\n", "ar1");
  }
  RunManifest manifest(run_dir.dir, o, args, resuming);
  manifest.write();
  std::printf("ar1: %s, %s scenario, %zu training experiences, %zu test experiences, %lld "
              "classes -> %s\n", o.str("dataset").c_str(), o.str("scenario").c_str(),
              b.train_stream.size(), b.test_stream.size(), static_cast<long long>(b.num_classes),
              run_dir.dir.string().c_str());

  const int64_t stop_after = o.integer("stop-after");
  const InterruptWatch interrupts;
  for (size_t k = start; k < b.train_stream.size(); ++k) {
    const data::Experience& exp = b.train_stream[k];
    std::printf("\n== experience %zu: %lld images, classes", k, static_cast<long long>(exp.size()));
    for (int64_t c : exp.classes_in_this_experience) std::printf(" %lld", static_cast<long long>(c));
    std::printf("\n");
    std::fflush(stdout);
    ar1.train(exp);
    if (const int sig = InterruptWatch::requested(); sig != 0) {
      // The experience ended early: neither evaluated nor checkpointed. What is on disk is the
      // last finished one's, and the outputs describe the run up to it.
      run_dir.write_outputs(o, runs, *ev);
      std::printf("\nstopped by signal %d during experience %zu; continue from experience %zu "
                  "with --resume %s\n", sig, k, k, run_dir.dir.string().c_str());
      return 128 + sig;
    }
    ar1.eval(b.test_stream, kStream);
    runs[0].experiences.push_back(stats_after(*ev, static_cast<int64_t>(k)));
    runs[0].accuracy.push_back(accuracy_row(*ev, b.test_stream.size()));
    record_classes(*ev, runs[0]);
    const std::vector<std::string> blowups = blowup_warnings(runs[0], b.num_classes);
    if (!blowups.empty() && blowups.back().rfind("experience " + std::to_string(k) + ":", 0) == 0) {
      std::printf("warning: [ar1] %s\n", blowups.back().c_str());
    }
    strategy::save_checkpoint(checkpoint, ar1,
                              {{"config", o.to_json()},
                               {"next_experience", std::to_string(k + 1)},
                               {"history", history_to_json(ev->history())},
                               {"run", run_to_json(runs[0])}});
    run_dir.write_outputs(o, runs, *ev);
    manifest.write();
    if (const int sig = InterruptWatch::requested(); sig != 0 && k + 1 < b.train_stream.size()) {
      std::printf("\nstopped by signal %d after experience %zu; continue with --resume %s\n", sig,
                  k, run_dir.dir.string().c_str());
      return 128 + sig;
    }
    if (stop_after > 0 && static_cast<int64_t>(k + 1) >= stop_after && k + 1 < b.train_stream.size()) {
      std::printf("stopping after experience %zu as asked (--stop-after); continue with "
                  "--resume %s\n", k, run_dir.dir.string().c_str());
      return 0;
    }
  }
  if (o.str("baseline") == "naive") runs.push_back(run_baseline(o, b));
  run_dir.write_outputs(o, runs, *ev, /*finished=*/true);
  print_summary(runs);
  std::printf("\nfinal stream accuracy %.4f; run directory %s (report.html)\n",
              runs[0].experiences.empty() ? 0.0 : runs[0].experiences.back().stream_accuracy,
              run_dir.dir.string().c_str());
  return 0;
}

}  // namespace ar1::cli
