// JSON run configs (--config FILE, config.json of a run directory), against `ar1 train`'s
// option table.
#include <string_view>

#include "run/options.h"
#include "run/train_options.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ar1::run::OptionTable table = ar1::run::train_options();
  ar1::run::ResolvedOptions options(table);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ar1::fuzz::expect_success_or_error([&] { ar1::run::apply_config_text(options, text, "fuzz"); });
  return 0;
}
