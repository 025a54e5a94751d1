// `ar1 eval --checkpoint PATH`: the model of a checkpoint on its dataset's test stream (the
// data options come from the run's saved config; --data-root may point elsewhere).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "kernels/cpu_kernels.h"
#include "kernels/device.h"
#include "kernels/precision.h"
#include "kernels/threading.h"
#include "run/setup.h"
#include "run/train_options.h"
#include "strategy/checkpoint.h"
#include "strategy/loggers/text_logger.h"
#include "tools/commands/commands.h"

namespace ar1::cli {

int eval_command(const std::vector<std::string>& args) {
  run::OptionTable table("eval", "Evaluate a checkpoint on its dataset's test stream.");
  constexpr auto R = run::OptionGroup::Run;
  table.add_string("checkpoint", "", "checkpoint.safetensors of a run directory", R, "PATH");
  table.add_string("data-root", "", "dataset directory; empty: the run's", R, "DIR");
  table.add_int("threads", 0, "CPU threads; 0: all cores", R).min = 0;
  const run::ParsedArgs parsed = run::parse_args(table, args);
  if (parsed.help) {
    std::cout << run::help_text(table);
    return 0;
  }
  const std::string path = parsed.options.str("checkpoint");
  AR1_CHECK(!path.empty(), "[ar1] eval needs --checkpoint PATH (a run directory's "
            "checkpoint.safetensors)");
  kernels::set_num_threads(static_cast<int>(parsed.options.integer("threads")));
  const strategy::CheckpointMetadata meta = strategy::read_checkpoint_metadata(path);
  AR1_CHECK(meta.count("config"), "[ar1] ", path, " holds no run config");
  run::ResolvedOptions o(run::train_options());
  run::apply_config_text(o, meta.at("config"), "the config in " + path);
  if (!parsed.options.str("data-root").empty()) o.set("data-root", parsed.options.str("data-root"));
  kernels::set_conv_precision(kernels::parse_precision(o.str("precision")));  // the run's
  // The run's set; a run made on oneDNN is evaluated on the portable set where there is none.
  if (!kernels::built_with_onednn() && o.str("cpu-kernels") == "onednn") {
    std::cerr << "ar1 eval: this build has no oneDNN; evaluating on the portable CPU kernels "
                 "(the last digits may differ from the run's)\n";
    o.set("cpu-kernels", std::string("portable"));
  }
  kernels::set_cpu_kernels(kernels::parse_cpu_kernels(o.str("cpu-kernels")));
  o.set("weights", std::string());
  const data::Benchmark b = run::make_benchmark(o);
  auto ev = strategy::default_evaluator();
  ev->add_logger(std::make_shared<strategy::TextLogger>(std::cout, false));
  strategy::AR1 ar1(run::make_model(o, b.num_classes), run::make_ar1_options(o), {}, ev);
  strategy::load_checkpoint(path, ar1);
  const auto metrics = ar1.eval(b.test_stream);
  const auto acc = metrics.find(strategy::metric_name("Top1_Acc_Stream", true, "test_stream"));
  std::printf("test stream accuracy %.4f (%s, after %s experiences)\n",
              acc == metrics.end() ? 0.0 : acc->second, path.c_str(),
              meta.at("next_experience").c_str());
  return 0;
}

}  // namespace ar1::cli
